import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestRepo, type TestRepo } from '../../test-support/test-repo.js';
import { provideShareDirs } from './provide.js';

let repo: TestRepo;
afterEach(() => repo.cleanup());

describe('provideShareDirs', () => {
  it('shares an ignored directory, and never one the worktree\'s .gitignore would let git commit', async () => {
    repo = makeTestRepo();
    repo.write('.gitignore', 'node_modules/\n');
    repo.write('README.md', 'x\n');
    repo.commitAll('ignores node_modules');
    mkdirSync(join(repo.path, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(repo.path, 'node_modules', 'dep', 'index.js'), 'dep\n');
    const input = (worktree: string) => ({
      home: join(repo.dir, 'home'), repoName: 'app', repoPath: repo.path, worktree, dirs: ['node_modules'],
      mode: 'copy' as const, layersRoot: join(repo.dir, 'layers'),
    });

    const ignoring = join(repo.dir, 'wt-ignoring');
    repo.git(['worktree', 'add', '-q', '-b', 'ignoring', ignoring]);
    expect(await provideShareDirs(input(ignoring))).toEqual([{ dir: 'node_modules', mode: 'copy' }]);
    expect(existsSync(join(ignoring, 'node_modules', 'dep', 'index.js'))).toBe(true);

    // A base branch that stopped ignoring it: the agent's writes there would be its work, so it is not shared.
    repo.git(['checkout', '-q', '-b', 'tracking']);
    repo.write('.gitignore', '*.log\n');
    repo.git(['commit', '-qam', 'node_modules no longer ignored']);
    repo.git(['checkout', '-q', 'main']);
    const tracking = join(repo.dir, 'wt-tracking');
    repo.git(['worktree', 'add', '-q', tracking, 'tracking']);
    expect(await provideShareDirs(input(tracking))).toEqual([]);
    expect(existsSync(join(tracking, 'node_modules'))).toBe(false);
  });
});
