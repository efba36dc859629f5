/**
 * Real git repositories and directories in the OS temp dir, for tests. Git
 * identity is set in the repository's own config, never globally, and
 * commit signing is off so a developer's global config cannot break tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { removeMounted } from './mounts.js';

export interface TempDir {
  path: string;
  cleanup(): void;
}

export interface TempRepoOptions {
  /** Temp directory name prefix (default `mosaic-repo-`). */
  prefix?: string;
  /** Initial branch (default `main`). */
  branch?: string;
  /** Extra files for the first commit, by relative path. */
  files?: Record<string, string>;
  /** `.gitignore` content (default ignores `node_modules/` and `*.log`). */
  gitignore?: string;
}

export const TEST_GIT_USER = { name: 'Mosaic Test', email: 'mosaic-test@example.invalid' };

/** Runs git in `cwd` and returns its trimmed stdout; throws with git's stderr on failure. */
export function git(cwd: string, ...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    const stderr = (err as { stderr?: unknown }).stderr;
    throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${typeof stderr === 'string' ? stderr.trim() : String(err)}`);
  }
}

export function makeTempDir(prefix = 'mosaic-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => removeMounted(path) };
}

/** A repository with local identity, one commit (README.md, .gitignore, `files`) on `main`. */
export async function makeTempRepo(opts: TempRepoOptions = {}): Promise<TempDir> {
  const dir = makeTempDir(opts.prefix ?? 'mosaic-repo-');
  const path = join(dir.path, 'repo');
  mkdirSync(path);
  try {
    git(path, 'init', '-q', '-b', opts.branch ?? 'main');
    git(path, 'config', 'user.name', TEST_GIT_USER.name);
    git(path, 'config', 'user.email', TEST_GIT_USER.email);
    git(path, 'config', 'commit.gpgsign', 'false');
    git(path, 'config', 'tag.gpgsign', 'false');
    writeFileSync(join(path, '.gitignore'), opts.gitignore ?? 'node_modules/\n*.log\n');
    writeFileSync(join(path, 'README.md'), '# test repository\n');
    for (const [rel, content] of Object.entries(opts.files ?? {})) {
      mkdirSync(dirname(join(path, rel)), { recursive: true });
      writeFileSync(join(path, rel), content);
    }
    git(path, 'add', '-A');
    git(path, 'commit', '-q', '-m', 'initial commit');
  } catch (err) {
    dir.cleanup();
    throw err;
  }
  // The repo sits one level down so tests can create `<repo>_worktrees` beside it inside the same temp dir.
  return { path, cleanup: dir.cleanup };
}

/**
 * What a crash or a kill in the middle of `git worktree add` leaves in
 * `.git/worktrees/`: an entry whose HEAD names an object that does not exist,
 * with `gitdir` and `commondir` files, and its directory still there (so
 * `git worktree prune` keeps it). `locked`: git's own "initializing" lock too,
 * dated `lockAgeMs` ago (git leaves it when stopped mid-add).
 */
export function plantHalfMadeEntry(repoPath: string, name: string, opts: { locked?: boolean; lockAgeMs?: number } = {}): { entry: string; dir: string } {
  const entry = join(repoPath, '.git', 'worktrees', name);
  const dir = join(`${repoPath}_worktrees`, name);
  mkdirSync(entry, { recursive: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(entry, 'HEAD'), `${'1'.repeat(40)}\n`);
  writeFileSync(join(entry, 'gitdir'), `${join(dir, '.git')}\n`);
  writeFileSync(join(entry, 'commondir'), '../..\n');
  writeFileSync(join(dir, '.git'), `gitdir: ${entry}\n`);
  if (opts.locked) {
    writeFileSync(join(entry, 'locked'), 'initializing');
    const at = (Date.now() - (opts.lockAgeMs ?? 0)) / 1000;
    utimesSync(join(entry, 'locked'), at, at);
  }
  return { entry, dir };
}

