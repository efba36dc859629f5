import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { removeMounted } from './mounts.js';

/**
 * Real throw-away repositories for the git module's tests and benchmarks.
 * Each lives in its own temp directory, so `<repo>_worktrees` lands there
 * too and one `cleanup()` removes everything. The identity is passed per
 * command, never configured globally.
 */
export interface TestRepo {
  /** The temp directory holding the repository and its managed root. */
  dir: string;
  /** Real path of the repository's top level. */
  path: string;
  git(args: string[], cwd?: string): string;
  write(rel: string, content: string, cwd?: string): void;
  commitAll(message: string, cwd?: string): string;
  cleanup(): void;
}

const IDENTITY = ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false'];

export function makeTestRepo(opts: { name?: string; commit?: boolean } = {}): TestRepo {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'mosaic-git-')));
  const path = join(dir, opts.name ?? 'repo');
  mkdirSync(path, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
  for (const key of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY']) delete env[key];
  const git = (args: string[], cwd: string = path): string =>
    execFileSync('git', [...IDENTITY, ...args], { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const write = (rel: string, content: string, cwd: string = path): void => {
    const file = join(cwd, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  };
  const commitAll = (message: string, cwd: string = path): string => {
    git(['add', '-A'], cwd);
    git(['commit', '-q', '--no-verify', '-m', message], cwd);
    return git(['rev-parse', 'HEAD'], cwd).trim();
  };
  git(['init', '-q', '-b', 'main']);
  if (opts.commit !== false) {
    write('README.md', '# test\n');
    write('.gitignore', 'ignored.txt\nnode_modules/\n');
    commitAll('initial');
  }
  return { dir, path, git, write, commitAll, cleanup: () => removeMounted(dir) };
}
