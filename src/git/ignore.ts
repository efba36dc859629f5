import { GitError, runGit } from './run.js';

/**
 * Whether git ignores the directory `rel` in the checkout at `cwd` (by its
 * .gitignore files, info/exclude and core.excludesFile) and tracks nothing
 * in it. Such a directory's content is never part of a snapshot commit,
 * which is what makes sharing it between worktrees safe: nothing an agent
 * writes there could have been its committed work.
 */
export async function isIgnoredDir(cwd: string, rel: string): Promise<boolean> {
  const dir = rel.endsWith('/') ? rel : `${rel}/`;
  try {
    await runGit(cwd, ['check-ignore', '-q', '--', dir]);
    return true;
  } catch (err) {
    if (err instanceof GitError && err.exitCode === 1) return false; // not ignored (or tracked content)
    throw err;
  }
}
