import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { conflict, invalid } from '../core/errors.js';
import { resolveReal } from './paths.js';
import { localBranchOnDisk } from './ref-files.js';
import { assertBranchName, assertRefName } from './refs.js';
import { gitTest, GitError, runGit, withLockRetry } from './run.js';

export interface RepoInfo {
  /** Real path of the work tree's top level. */
  path: string;
  /** Short name of the checked-out branch, or null when HEAD is detached. */
  currentBranch: string | null;
}

interface TopLevel {
  path: string;
  /** The commit `ref` resolved to; null when it did not resolve or none was asked. */
  commit: string | null;
}

/**
 * Checks that `path` is the top level of a non-bare repository's main work
 * tree (not a subdirectory, not a linked worktree), and resolves `ref` to a
 * commit in the same git process. Throws 400 `not_a_git_repo` otherwise.
 */
export async function inspectTopLevel(path: string, ref?: string): Promise<TopLevel> {
  if (typeof path !== 'string' || path.trim() === '') {
    throw invalid('not_a_git_repo', 'repository path must be a non-empty string');
  }
  if (ref !== undefined) assertRefName('ref', ref);
  const absolute = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(absolute).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw invalid('not_a_git_repo', `${absolute} is not a directory`, { path: absolute });

  const real = resolveReal(absolute);
  // --show-toplevel fails in bare repositories and inside .git, as wanted.
  const args = ['rev-parse', '--show-toplevel', '--git-dir', '--git-common-dir',
    ...(ref === undefined ? [] : ['--verify', '--quiet', `${ref}^{commit}`])];
  let stdout: string;
  try {
    stdout = (await runGit(real, args)).stdout;
  } catch (err) {
    // Exit 1 with --verify --quiet: a repository, but `ref` does not resolve.
    if (ref !== undefined && err instanceof GitError && err.exitCode === 1 && err.stdout.split('\n').length >= 3) {
      stdout = err.stdout;
    } else {
      const why = err instanceof GitError ? err.stderr.trim() : String(err);
      throw invalid('not_a_git_repo', `${absolute} is not a git work tree${why ? `: ${why}` : ''}`, { path: absolute });
    }
  }
  const [top = '', gitDir = '', commonDir = '', commit = ''] = stdout.split('\n');
  if (top === '' || resolveReal(top) !== real) {
    throw invalid('not_a_git_repo', `${absolute} is inside the repository ${top} but is not its top level`, { path: absolute });
  }
  if (resolveReal(resolve(real, gitDir)) !== resolveReal(resolve(real, commonDir))) {
    // A linked worktree's own worktrees would land in the main repository's list.
    throw invalid('not_a_git_repo', `${absolute} is a linked worktree; register the main repository instead`, { path: absolute });
  }
  return { path: real, commit: /^[0-9a-f]{40,64}$/.test(commit) ? commit : null };
}

/** Real path of the repository top level at `path`; 400 `not_a_git_repo` otherwise. */
export async function assertRepoTopLevel(path: string): Promise<string> {
  return (await inspectTopLevel(path)).path;
}

/**
 * Checks that `path` is the top level of a main work tree with at least one
 * commit (400 `not_a_git_repo` / `no_commits`), and returns its real path and
 * current branch.
 */
export async function inspectRepo(path: string): Promise<RepoInfo> {
  const { path: real, commit } = await inspectTopLevel(path, 'HEAD');
  if (commit === null) {
    throw invalid('no_commits', `${resolve(path)} has no commits yet; worktrees need a commit to start from`, { path: resolve(path) });
  }
  let currentBranch: string | null = null;
  try {
    currentBranch = (await runGit(real, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim() || null;
  } catch (err) {
    if (!(err instanceof GitError && err.exitCode === 1)) throw err;
  }
  return { path: real, currentBranch };
}

/** Whether the local branch `name` exists. */
export async function branchExists(repoPath: string, name: string): Promise<boolean> {
  assertBranchName('branch', name);
  const onDisk = await localBranchOnDisk(repoPath, name);
  if (onDisk !== 'unknown') return onDisk === 'present';
  return gitTest(repoPath, ['show-ref', '--verify', '--quiet', `refs/heads/${name}`]);
}

/** The commit `ref` points to, or null when it does not resolve to a commit. */
export async function resolveCommit(repoPath: string, ref: string): Promise<string | null> {
  assertRefName('ref', ref);
  try {
    const { stdout } = await runGit(repoPath, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return stdout.trim() || null;
  } catch (err) {
    if (err instanceof GitError && err.exitCode === 1) return null;
    throw err;
  }
}

/**
 * Deletes a local branch whatever it holds. Returns false when it did not
 * exist. Refuses (409 `branch_checked_out`) while a worktree has it checked
 * out, since git would leave that worktree on a missing branch.
 */
export async function deleteBranch(repoPath: string, branch: string): Promise<boolean> {
  assertBranchName('branch', branch);
  try {
    await withLockRetry(() => runGit(repoPath, ['branch', '-D', '--end-of-options', branch]));
    return true;
  } catch (err) {
    if (err instanceof GitError) {
      if (/branch '.*' not found/i.test(err.stderr)) return false;
      if (/checked out at|used by worktree/i.test(err.stderr)) {
        throw conflict('branch_checked_out', `branch ${branch} is checked out in a worktree`, { branch });
      }
    }
    throw err;
  }
}
