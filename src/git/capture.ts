import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MosaicError } from '../core/errors.js';
import { STABLE_DIFF_OPTIONS } from './diff.js';
import { resolveCommit } from './repo.js';
import { assertRefName } from './refs.js';
import { GitError, runGit, worktreeFilters } from './run.js';
import { SAFE_CHECKOUT_ARGS } from './safe.js';
import { inspectWorktree, unstageExcluded } from './snapshot.js';

/**
 * What a snapshot would commit from a worktree right now, without
 * committing it and without touching the worktree's own index: a private
 * copy of the index takes `add -A` (minus the copied files), and its tree is
 * written to the object database. The running agent sees nothing.
 */

export interface CapturedTree {
  /** The worktree's HEAD commit (null on an unborn branch). */
  head: string | null;
  /** The tree of HEAD plus every uncommitted change. */
  tree: string;
  /** Whether `tree` differs from HEAD's tree. */
  dirty: boolean;
}

const CAPTURE_TIMEOUT_MS = 5 * 60_000;

export async function captureWorktreeTree(worktreePath: string, exclude: readonly string[] = []): Promise<CapturedTree> {
  const state = await inspectWorktree(worktreePath);
  const tmpIndex = join(state.gitDir, `mosaic-capture-${randomUUID()}.index`);
  const env = { GIT_INDEX_FILE: tmpIndex };
  // Filter drivers looked up once for every index-writing call below.
  const opts = { env, timeoutMs: CAPTURE_TIMEOUT_MS, filters: await worktreeFilters(state.path) };
  try {
    const realIndex = join(state.gitDir, 'index');
    if (existsSync(realIndex)) copyFileSync(realIndex, tmpIndex);
    else if (state.head) await runGit(state.path, [...SAFE_CHECKOUT_ARGS, 'read-tree', state.head], opts);
    await runGit(state.path, [...SAFE_CHECKOUT_ARGS, 'add', '-A', '--', '.'], opts);
    if (exclude.length > 0) await unstageExcluded(state.path, state.head, exclude, opts);
    const tree = (await runGit(state.path, ['write-tree'], opts)).stdout.trim();
    return { head: state.head, tree, dirty: tree !== state.headTree };
  } finally {
    rmSync(tmpIndex, { force: true });
  }
}

/**
 * Unified diff of a live worktree against the point where its branch forked
 * from `baseRef`: its commits and its uncommitted changes together.
 */
export async function diffWorktree(repoPath: string, baseRef: string, worktreePath: string, exclude: readonly string[],
  maxBytes: number): Promise<string> {
  assertRefName('baseRef', baseRef);
  const base = await resolveCommit(repoPath, baseRef);
  const captured = await captureWorktreeTree(worktreePath, exclude);
  if (base === null) throw new MosaicError(404, 'unknown_ref', `base ${baseRef} does not resolve to a commit`);
  const fork = captured.head === null ? base
    : (await runGit(repoPath, ['merge-base', base, captured.head]).catch(() => ({ stdout: base }))).stdout.trim();
  try {
    const { stdout } = await runGit(repoPath, ['-c', 'core.quotePath=false', 'diff', ...STABLE_DIFF_OPTIONS, fork, captured.tree, '--'], { maxBuffer: maxBytes });
    return stdout;
  } catch (err) {
    if (err instanceof GitError && err.tooLarge) throw new MosaicError(413, 'diff_too_large', `the diff of ${worktreePath} is larger than ${maxBytes} bytes`);
    throw err;
  }
}
