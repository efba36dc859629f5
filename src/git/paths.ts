import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { invalid } from '../core/errors.js';
import { isValidName, NAME_PATTERN } from '../core/ids.js';

/**
 * Path rules of the worktree module. Every directory it creates or deletes is
 * first resolved here and checked to lie strictly inside `<repo>_worktrees/`,
 * so neither a crafted name nor a symlink can make it touch anything else.
 */
export const MANAGED_SUFFIX = '_worktrees';

/**
 * The real path of `p`: symlinks of the longest existing ancestor are
 * resolved and the rest is appended. A path that does not exist yet still
 * resolves through a symlinked parent, which is what a later mkdir/rm would
 * act on.
 */
export function resolveReal(p: string): string {
  const absolute = resolve(p);
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      const real = realpathSync.native(current);
      return rest.length === 0 ? real : join(real, ...rest.reverse());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const parent = dirname(current);
      if (parent === current) return absolute;
      rest.push(basename(current));
      current = parent;
    }
  }
}

/** `<real repo path>_worktrees`: the only directory whose children Mosaic creates and removes. */
export function managedRoot(repoPath: string): string {
  return resolveReal(repoPath) + MANAGED_SUFFIX;
}

/** True when `candidate` lies strictly inside `root` once both are resolved. */
export function isInside(root: string, candidate: string): boolean {
  const rel = relative(resolveReal(root), resolveReal(candidate));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * Returns the resolved `candidate` when it lies strictly inside `root`, and
 * throws 400 `path_outside_root` otherwise. Callers must act on the returned
 * path, not on the one they passed, so what was checked is what is touched.
 */
export function assertInside(root: string, candidate: string): string {
  const realRoot = resolveReal(root);
  const realCandidate = resolveReal(candidate);
  const rel = relative(realRoot, realCandidate);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw invalid('path_outside_root', `${candidate} is not inside ${realRoot}`, { root: realRoot, path: candidate });
  }
  return realCandidate;
}

/** Path of the managed worktree `name` of a repository; `name` must be one safe path segment. */
export function worktreePathFor(repoPath: string, name: string): string {
  if (!isValidName(name)) {
    throw invalid('invalid_worktree_name', `worktree name must match ${NAME_PATTERN} and must not contain '..'`, { field: 'name' });
  }
  const root = managedRoot(repoPath);
  return assertInside(root, join(root, name));
}

/**
 * A managed worktree path: a direct child of the repository's managed root
 * (Mosaic creates nothing deeper). Returns the resolved path; throws 400
 * `path_outside_root` otherwise.
 */
export function assertManagedWorktree(repoPath: string, worktreePath: string): string {
  const root = resolveReal(managedRoot(repoPath));
  const target = assertInside(root, worktreePath);
  if (dirname(target) !== root) {
    throw invalid('path_outside_root', `${worktreePath} is not a worktree directory directly inside ${root}`, { root, path: worktreePath });
  }
  return target;
}

/** Whether something is at `path`, the path itself not followed (a dangling symlink is something). */
export function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A small file of a worktree admin entry (HEAD, gitdir, locked, …), or null when it is not a regular file there. */
export function readAdminFile(path: string): string | null {
  try {
    if (!lstatSync(path).isFile()) return null;
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
