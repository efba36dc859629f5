import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MosaicError } from '../core/errors.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { WorktreeManager } from './worktrees.js';

describe('snapshot', () => {
  let repo: TestRepo;
  let manager: WorktreeManager;
  let wt: string;
  const saved: Record<string, string | undefined> = {};

  // A machine with no git identity anywhere: snapshots must still commit.
  beforeAll(() => {
    for (const key of ['GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM']) saved[key] = process.env[key];
    process.env.GIT_CONFIG_GLOBAL = '/dev/null';
    process.env.GIT_CONFIG_NOSYSTEM = '1';
  });
  afterAll(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  beforeEach(async () => {
    repo = makeTestRepo();
    manager = new WorktreeManager();
    wt = (await manager.create({ repoPath: repo.path, name: 'agent-s', branch: 'agent-s', baseBranch: 'main' })).path;
  });
  afterEach(() => repo.cleanup());

  const show = (rev: string, file: string): string => repo.git(['show', `${rev}:${file}`]);
  const files = (rev: string): string[] => repo.git(['ls-tree', '-r', '--name-only', rev]).trim().split('\n');

  it('returns null on a clean worktree and makes no commit', async () => {
    const before = repo.git(['rev-parse', 'agent-s']).trim();
    expect(await manager.snapshot(wt, 'nothing')).toBeNull();
    expect(repo.git(['rev-parse', 'agent-s']).trim()).toBe(before);
  });

  it('returns null when only ignored files changed', async () => {
    writeFileSync(join(wt, 'ignored.txt'), 'x');
    mkdirSync(join(wt, 'node_modules'));
    writeFileSync(join(wt, 'node_modules', 'x.js'), 'x');
    expect(await manager.snapshot(wt, 'ignored only')).toBeNull();
  });

  it('commits tracked edits, deletions and untracked files on the agent branch', async () => {
    repo.write('committed.txt', 'agent commit\n', wt);
    const agentCommit = repo.commitAll('agent work', wt);
    writeFileSync(join(wt, 'README.md'), '# changed\n');
    repo.write('src/new file.ts', 'export {};\n', wt);
    rmSync(join(wt, 'committed.txt'));
    writeFileSync(join(wt, 'ignored.txt'), 'stays out');
    repo.git(['add', 'README.md'], wt); // staged and then changed again: the working tree wins
    writeFileSync(join(wt, 'README.md'), '# changed twice\n');

    const sha = await manager.snapshot(wt, 'mosaic: snapshot of agent s');
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(repo.git(['rev-parse', 'agent-s']).trim()).toBe(sha);
    expect(repo.git(['rev-parse', `${sha}^`]).trim()).toBe(agentCommit);
    expect(show('agent-s', 'README.md')).toBe('# changed twice\n');
    expect(show('agent-s', 'src/new file.ts')).toBe('export {};\n');
    expect(files('agent-s')).not.toContain('committed.txt');
    expect(files(agentCommit)).toContain('committed.txt');
    expect(files('agent-s')).not.toContain('ignored.txt');
    expect(repo.git(['log', '-1', '--format=%an <%ae>|%s', 'agent-s']).trim()).toBe('Mosaic <mosaic@localhost>|mosaic: snapshot of agent s');
    // The worktree's index follows the new commit, so it now reads clean.
    expect(repo.git(['status', '--porcelain'], wt).trim()).toBe('');
    expect(await manager.snapshot(wt, 'again')).toBeNull();
  });

  it('leaves excluded paths (copied secrets) out of the snapshot', async () => {
    writeFileSync(join(wt, '.env'), 'API_KEY=secret\n');
    repo.write('config/local settings.json', '{}\n', wt);
    repo.write('work.txt', 'agent work\n', wt);
    const sha = await manager.snapshot(wt, 'snap', ['.env', 'config/local settings.json']);
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(files('agent-s')).toContain('work.txt');
    expect(files('agent-s')).not.toContain('.env');
    expect(files('agent-s')).not.toContain('config/local settings.json');
    // Only excluded files left: nothing to save.
    expect(await manager.snapshot(wt, 'again', ['.env', 'config/local settings.json'])).toBeNull();
  });

  it('keeps an excluded path that the branch tracks at its committed version', async () => {
    // A copied file the base already tracks: the snapshot must neither commit the copy's content nor delete it.
    repo.write('settings.json', '{"tracked":true}\n', wt);
    repo.git(['add', 'settings.json'], wt);
    repo.git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'track settings'], wt);
    repo.write('settings.json', '{"secret":"copied"}\n', wt);
    repo.write('more.txt', 'more\n', wt);
    expect(await manager.snapshot(wt, 'snap', ['settings.json'])).toMatch(/^[0-9a-f]{40}$/);
    expect(show('agent-s', 'settings.json')).toBe('{"tracked":true}\n');
    expect(files('agent-s')).toContain('more.txt');
  });

  it('is not blocked by a stale index.lock or by failing hooks', async () => {
    const gitDir = repo.git(['rev-parse', '--absolute-git-dir'], wt).trim();
    writeFileSync(join(gitDir, 'index.lock'), '');
    const hooks = join(repo.dir, 'hooks');
    mkdirSync(hooks);
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit']) {
      writeFileSync(join(hooks, hook), '#!/bin/sh\nexit 1\n');
      chmodSync(join(hooks, hook), 0o755);
    }
    repo.git(['config', 'core.hooksPath', hooks]);
    repo.git(['config', 'commit.gpgsign', 'true']);
    writeFileSync(join(wt, 'work.txt'), 'unsaved');
    const sha = await manager.snapshot(wt, 'snap');
    expect(sha).not.toBeNull();
    expect(show('agent-s', 'work.txt')).toBe('unsaved');
    expect(existsSync(join(gitDir, 'index.lock'))).toBe(true); // someone else's lock is left alone
  });

  it('keeps a detached HEAD snapshot reachable under refs/mosaic/snapshots', async () => {
    repo.git(['checkout', '-q', '--detach'], wt);
    writeFileSync(join(wt, 'detached.txt'), 'x');
    const sha = await manager.snapshot(wt, 'detached');
    expect(sha).not.toBeNull();
    const refs = repo.git(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/mosaic/snapshots/']).trim();
    expect(refs).toMatch(new RegExp(`^${sha} refs/mosaic/snapshots/agent-s/\\d+$`));
    await manager.remove(repo.path, wt);
    expect(show(sha ?? '', 'detached.txt')).toBe('x');
  });

  it('saves a half-finished merge with its conflict markers', async () => {
    repo.write('README.md', 'main side\n');
    repo.commitAll('main change');
    repo.write('README.md', 'agent side\n', wt);
    repo.commitAll('agent change', wt);
    expect(() => repo.git(['merge', '-q', 'main'], wt)).toThrow();
    const sha = await manager.snapshot(wt, 'mid-merge');
    expect(sha).not.toBeNull();
    expect(show('agent-s', 'README.md')).toContain('<<<<<<<');
  });

  it('returns null for a worktree that is already gone', async () => {
    await manager.remove(repo.path, wt);
    expect(await manager.snapshot(wt, 'gone')).toBeNull();
  });

  it('refuses the main checkout and worktrees outside the managed root', async () => {
    writeFileSync(join(repo.path, 'user-work.txt'), 'not for Mosaic');
    await expect(manager.snapshot(repo.path, 'no')).rejects.toMatchObject({ code: 'not_a_worktree' });
    const foreign = join(repo.dir, 'foreign');
    repo.git(['worktree', 'add', '-q', '-b', 'foreign', foreign, 'main']);
    writeFileSync(join(foreign, 'x.txt'), 'x');
    await expect(manager.snapshot(foreign, 'no')).rejects.toBeInstanceOf(MosaicError);
    await expect(manager.snapshot(foreign, 'no')).rejects.toMatchObject({ code: 'path_outside_root' });
    expect(repo.git(['status', '--porcelain']).trim()).toBe('?? user-work.txt');
    expect(readFileSync(join(foreign, 'x.txt'), 'utf8')).toBe('x');
  });

  it('saves nothing from a worktree registered but never checked out (a crash before its files), not every file deleted', async () => {
    const half = join(repo.path + '_worktrees', 'agent-half');
    repo.git(['worktree', 'add', '-q', '--no-checkout', '-b', 'agent-half', half, 'main']);
    const before = repo.git(['rev-parse', 'agent-half']).trim();
    expect(await manager.snapshot(half, 'half')).toBeNull();
    expect(repo.git(['rev-parse', 'agent-half']).trim()).toBe(before);
    // With a file in it (a checkout cut short, or work), the snapshot still saves what is there.
    writeFileSync(join(half, 'README.md'), 'written\n');
    const sha = await manager.snapshot(half, 'half');
    expect(sha).not.toBeNull();
    expect(show(sha as string, 'README.md')).toBe('written\n');
  });

  it('refuses a half-deleted worktree instead of committing in an enclosing repository', async () => {
    rmSync(join(wt, '.git'));
    await expect(manager.snapshot(wt, 'half')).rejects.toMatchObject({ code: 'not_a_worktree' });
  });
});
