import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { invalid } from '../core/errors.js';
import { listWorktrees } from './list.js';
import { managedRoot, resolveReal } from './paths.js';
import { GitError, runGit } from './run.js';

/**
 * Git mechanics of warm pools (DESIGN §3 "Warm pools"). A pooled worktree is
 * `<repo>_worktrees/pool-<id>` on its own branch `mosaic-pool-<id>`, made
 * from the base branch's tip. Handing one to an agent renames both (branch
 * first, then the directory), so the agent gets exactly the names a cold
 * spawn would give it. The WorktreeManager runs the repository-wide steps
 * here under its per-repository lock.
 */

export const POOL_NAME_PREFIX = 'pool-';
export const POOL_BRANCH_PREFIX = 'mosaic-pool-';
const POOL_ID = /^[a-z0-9]{4,32}$/;

/** Files that, when they change, mean `setup` must run again (`setupInputs` default). */
export const DEFAULT_SETUP_INPUTS: readonly string[] = [
  'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'Cargo.lock', 'poetry.lock', 'uv.lock', 'go.sum',
];

export function isPoolId(id: unknown): id is string {
  return typeof id === 'string' && POOL_ID.test(id);
}

/** Directory name and branch of the pooled worktree `id`. */
export function pooledNames(id: string): { name: string; branch: string } {
  if (!isPoolId(id)) throw invalid('invalid_pool_id', `pool id must match ${POOL_ID}`);
  return { name: `${POOL_NAME_PREFIX}${id}`, branch: `${POOL_BRANCH_PREFIX}${id}` };
}

/** The pool id of a worktree directly in the repository's managed root named `pool-<id>`, else null. */
export function poolIdOfPath(repoPath: string, worktreePath: string): string | null {
  if (dirname(resolveReal(worktreePath)) !== resolveReal(managedRoot(repoPath))) return null;
  const name = basename(worktreePath);
  if (!name.startsWith(POOL_NAME_PREFIX)) return null;
  const id = name.slice(POOL_NAME_PREFIX.length);
  return isPoolId(id) ? id : null;
}

export interface PooledWorktreeEntry {
  id: string;
  path: string;
  /** Short branch name, null when detached. */
  branch: string | null;
  head: string | null;
  /** git says its directory is gone. */
  prunable: boolean;
}

/** Worktrees of the repository that are named like pooled ones. */
export async function listPooledWorktrees(repoPath: string): Promise<PooledWorktreeEntry[]> {
  const out: PooledWorktreeEntry[] = [];
  for (const entry of await listWorktrees(repoPath)) {
    const id = poolIdOfPath(repoPath, entry.path);
    if (id === null) continue;
    out.push({ id, path: entry.path, branch: entry.branch, head: entry.head, prunable: entry.prunable });
  }
  return out;
}

export interface PooledState {
  /** The commit checked out, null when it cannot be read. */
  head: string | null;
  /** Short branch name checked out, null when detached or unreadable. */
  branch: string | null;
  /** sha256 of `git status` over tracked files: changes when a tracked file is edited or deleted. */
  trackedStatus: string;
}

/**
 * What a pooled worktree holds now, or null when it is not a readable
 * worktree any more (directory or `.git` file gone). Never looks above the
 * worktree for a repository, so a half-deleted one is not mistaken for its
 * parent.
 */
export async function inspectPooled(path: string): Promise<PooledState | null> {
  if (!existsSync(path)) return null;
  const opts = { env: { GIT_CEILING_DIRECTORIES: dirname(path) } };
  try {
    // Two git processes at once (a warm spawn waits for this): HEAD's commit, and the status with its branch header.
    const [head, status] = await Promise.all([
      runGit(path, ['rev-parse', '--verify', '--quiet', 'HEAD'], opts).then((r) => r.stdout.trim() || null),
      runGit(path, ['status', '--porcelain=v1', '-z', '--branch', '--untracked-files=no', '--ignore-submodules=none'], opts).then((r) => r.stdout),
    ]);
    const end = status.startsWith('## ') ? status.indexOf('\0') : -1;
    const header = end < 0 ? '' : status.slice(3, end);
    // `## <branch>[...<upstream> …]`, `## HEAD (no branch)` when detached, `## No commits yet on <branch>` when unborn.
    const branch = header === '' || header.startsWith('HEAD (no branch)') ? null
      : (header.startsWith('No commits yet on ') ? header.slice('No commits yet on '.length) : header).split('...')[0] ?? null;
    return {
      head,
      branch: branch === '' ? null : branch,
      // Hashed without the header: the same bytes as the status without --branch (markers written before keep matching).
      trackedStatus: createHash('sha256').update(status.slice(end + 1)).digest('hex'),
    };
  } catch (err) {
    if (err instanceof GitError) return null;
    throw err;
  }
}

/**
 * Brings a pooled worktree's branch and files to `commit` (the base's new
 * tip). Untracked and ignored files (setup output, copied files) stay.
 */
export async function movePooledTo(path: string, commit: string): Promise<void> {
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw invalid('invalid_commit', 'commit must be a full object id');
  await runGit(path, ['reset', '--hard', '--quiet', commit], { env: { GIT_CEILING_DIRECTORIES: dirname(path) } });
}

/** `setupInputs` entries: relative globs; one without '/' matches the name at any depth (like .gitignore). */
export function normalizeSetupInput(entry: unknown): string {
  const bad = (why: string): never => {
    throw invalid('invalid_setup_input', `setupInputs entry ${JSON.stringify(entry)} ${why}`, { field: 'setupInputs' });
  };
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > 1024) return bad('must be a non-empty glob');
  if (entry.includes('\0') || /[\r\n]/.test(entry)) return bad('contains a control character');
  // A leading ':' would be read by git as pathspec magic, and '!' as exclusion.
  if (entry.startsWith(':') || entry.startsWith('!') || entry.startsWith('/') || entry.startsWith('\\') || /^[A-Za-z]:/.test(entry)) {
    return bad('must be a relative glob');
  }
  if (entry.split(/[\\/]+/).includes('..')) return bad("must not contain '..'");
  return entry;
}

function pathspecFor(glob: string): string {
  const rel = glob.replace(/^(\.\/)+/, '');
  return rel.includes('/') ? `:(glob)${rel}` : `:(glob)**/${rel}`;
}

/**
 * Whether any file matching `globs` differs between two commits. A commit
 * that cannot be read counts as a change (the safe answer: run setup again).
 */
export async function setupInputsChanged(repoPath: string, from: string, to: string, globs: readonly string[]): Promise<boolean> {
  if (from === to) return false;
  if (globs.length === 0) return false;
  const specs = globs.map((g) => pathspecFor(normalizeSetupInput(g)));
  try {
    const { stdout } = await runGit(repoPath, ['diff', '--no-ext-diff', '--no-textconv', '--name-only', '-z', from, to, '--', ...specs]);
    return stdout.length > 0;
  } catch (err) {
    if (err instanceof GitError) return true;
    throw err;
  }
}

/**
 * Renames a pooled worktree into an agent's: branch `fromBranch` becomes
 * `toBranch`, then the directory moves to `toPath`. When the move fails the
 * branch is renamed back, so the pooled worktree is left as it was.
 */
export async function renamePooled(repoPath: string, from: { path: string; branch: string }, to: { path: string; branch: string }): Promise<void> {
  await runGit(repoPath, ['branch', '-m', from.branch, to.branch]);
  try {
    await runGit(repoPath, ['worktree', 'move', '--end-of-options', from.path, to.path]);
  } catch (err) {
    await runGit(repoPath, ['branch', '-m', to.branch, from.branch]).catch(() => undefined);
    throw err;
  }
}
