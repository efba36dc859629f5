import { MosaicError, notFound } from '../core/errors.js';
import { resolveCommit } from './repo.js';
import { assertRefName } from './refs.js';
import { GitError, runGit } from './run.js';
import type { DiffSummary } from './types.js';

/**
 * What an agent's branch changed since it forked from its base. Both refs are
 * validated and resolved to commit ids first, so git only ever sees hex ids
 * in the revision arguments.
 */

export const DEFAULT_MAX_DIFF_BYTES = 64 * 1024 * 1024;

// Output that does not depend on the user's diff configuration, and runs none
// of the external programs that configuration may name.
export const STABLE_DIFF_OPTIONS = ['--no-color', '--no-ext-diff', '--no-textconv', '--find-renames',
  '--src-prefix=a/', '--dst-prefix=b/', '--submodule=short'];

async function resolvePair(repoPath: string, baseRef: string, branch: string): Promise<[string, string]> {
  assertRefName('baseRef', baseRef);
  assertRefName('branch', branch);
  const [base, head] = await Promise.all([resolveCommit(repoPath, baseRef), resolveCommit(repoPath, branch)]);
  if (base === null) throw notFound('unknown_ref', `base ${baseRef} does not resolve to a commit`);
  if (head === null) throw notFound('unknown_ref', `branch ${branch} does not resolve to a commit`);
  return [base, head];
}

/** Unified diff of `base...branch` (binary files appear as "Binary files ... differ"). */
export async function diffBranch(repoPath: string, baseRef: string, branch: string,
  maxBytes: number = DEFAULT_MAX_DIFF_BYTES): Promise<string> {
  const [base, head] = await resolvePair(repoPath, baseRef, branch);
  try {
    const { stdout } = await runGit(repoPath, ['-c', 'core.quotePath=false', 'diff', ...STABLE_DIFF_OPTIONS,
      '--end-of-options', `${base}...${head}`, '--'], { maxBuffer: maxBytes });
    return stdout;
  } catch (err) {
    if (err instanceof GitError && err.tooLarge) {
      throw new MosaicError(413, 'diff_too_large', `the diff of ${branch} is larger than ${maxBytes} bytes`);
    }
    throw err;
  }
}

/** Commits on `branch` not on `base`, and files changed since the fork point. */
export async function summarizeBranch(repoPath: string, baseRef: string, branch: string): Promise<DiffSummary> {
  const fast = await quickSummary(repoPath, baseRef, branch).catch(() => null);
  if (fast !== null) return fast;
  const [base, head] = await resolvePair(repoPath, baseRef, branch);
  const [count, names] = await Promise.all([
    runGit(repoPath, ['rev-list', '--count', '--end-of-options', `${base}..${head}`, '--']),
    runGit(repoPath, ['diff', '--name-only', '-z', '--no-ext-diff', '--find-renames', '--end-of-options', `${base}...${head}`, '--']),
  ]);
  return {
    commitsAhead: Number.parseInt(count.stdout.trim(), 10) || 0,
    filesChanged: names.stdout.split('\0').filter((name) => name !== '').length,
  };
}

const OID_LINE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * The summary in three git processes, two of them at once (it is part of
 * every agent's finish): both refs resolved by one `rev-parse`, and
 * `diff-tree --merge-base`, which reads no worktree (so no filter lookup
 * either). Throws when either ref is missing or the fork point is not one
 * commit (criss-cross history); the caller then asks the long way, which
 * says which ref is missing and takes the first fork point as `git diff A...B` does.
 */
async function quickSummary(repoPath: string, baseRef: string, branch: string): Promise<DiffSummary> {
  assertRefName('baseRef', baseRef);
  assertRefName('branch', branch);
  const { stdout } = await runGit(repoPath, ['rev-parse', '--end-of-options', `${baseRef}^{commit}`, `${branch}^{commit}`, '--']);
  const [base, head, ...rest] = stdout.split('\n').filter((line) => OID_LINE.test(line));
  if (base === undefined || head === undefined || rest.length > 0) throw new Error('unexpected rev-parse output');
  const [count, names] = await Promise.all([
    runGit(repoPath, ['rev-list', '--count', '--end-of-options', `${base}..${head}`, '--']),
    runGit(repoPath, ['diff-tree', '-r', '--merge-base', '--name-only', '-z', '--no-ext-diff', '--find-renames', '--end-of-options', base, head, '--']),
  ]);
  return {
    commitsAhead: Number.parseInt(count.stdout.trim(), 10) || 0,
    filesChanged: names.stdout.split('\0').filter((name) => name !== '').length,
  };
}
