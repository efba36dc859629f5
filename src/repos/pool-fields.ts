import { invalid, MosaicError } from '../core/errors.js';
import { isIgnoredDir, normalizeCopyEntry, normalizeSetupInput } from '../git/index.js';

/** Upper bound of `poolSize`: each pooled worktree is a full checkout plus its setup output on disk. */
export const MAX_POOL_SIZE = 32;
const MAX_LIST = 100;

export function checkPoolSize(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_POOL_SIZE) {
    throw invalid('invalid_pool_size', `poolSize must be an integer from 0 to ${MAX_POOL_SIZE}`, { field: 'poolSize' });
  }
  return value;
}

/**
 * `shareDirs` entries: relative directories inside the repository, with the
 * same rules as copyFiles (no absolute path, no '..', nothing under .git),
 * normalized and without duplicates or one inside another.
 */
export function checkShareDirs(value: unknown): string[] {
  if (!Array.isArray(value) || value.length > MAX_LIST) {
    throw invalid('invalid_share_dir', `shareDirs must be a list of at most ${MAX_LIST} relative paths`, { field: 'shareDirs' });
  }
  const dirs: string[] = [];
  for (const entry of value) {
    let rel: string;
    try {
      rel = normalizeCopyEntry(entry);
    } catch (err) {
      if (err instanceof MosaicError) throw invalid('invalid_share_dir', err.message.replace('copyFiles', 'shareDirs'), { field: 'shareDirs' });
      throw err;
    }
    const clash = dirs.find((d) => d === rel || rel.startsWith(`${d}/`) || d.startsWith(`${rel}/`));
    if (clash !== undefined) throw invalid('invalid_share_dir', `shareDirs entries '${clash}' and '${rel}' overlap`, { field: 'shareDirs' });
    dirs.push(rel);
  }
  return dirs;
}

/**
 * Every shareDirs entry must be a directory git ignores in the repository
 * (`node_modules/`, `.venv/`, `target/`): a shared directory is never part of an
 * agent's commits, so sharing one git would commit would lose the agent's
 * changes there (an overlay keeps them in its private layer) or commit a
 * copy of the whole directory.
 */
export async function checkShareDirsIgnored(repoPath: string, dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    if (!(await isIgnoredDir(repoPath, dir))) {
      throw invalid('share_dir_not_ignored',
        `shareDirs entry '${dir}' is not ignored by git in ${repoPath}: add '${dir}/' to .gitignore (a shared directory is never committed, so only ignored ones can be shared)`,
        { field: 'shareDirs' });
    }
  }
}

/** `setupInputs`: relative globs (null keeps the default lockfiles). */
export function checkSetupInputs(value: unknown): string[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || value.length > MAX_LIST) {
    throw invalid('invalid_setup_input', `setupInputs must be a list of at most ${MAX_LIST} globs`, { field: 'setupInputs' });
  }
  return value.map((entry) => normalizeSetupInput(entry));
}
