import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { repoLayout } from './layout.js';
import { assertInside, readAdminFile, resolveReal } from './paths.js';
import { runGit } from './run.js';

/**
 * Removing a managed worktree in two renames' time (DESIGN §3 "Worktrees").
 *
 * `git worktree remove` deletes every file of the checkout before it drops
 * the registration, so an agent's finish waited for thousands of unlinks.
 * Here the directory is renamed into `<repo>_worktrees/.trash/` (one
 * rename on the same file system; `.trash` is never a valid worktree name)
 * and its registration, the admin entry `<common dir>/worktrees/<name>`,
 * is deleted as git's own remove deletes it; the files go later, in the
 * background, by the caller's `discard` (agents/sandbox/hostile-fs.ts for a
 * tree an agent wrote in).
 *
 * Only the repository's own admin entry is read (no agent writes there; a
 * worktree's `.git` file is read by git alone, when the entry is not under
 * the worktree's name), and only when its `gitdir` file names exactly this
 * worktree's `.git` is it deleted; anything else (no such entry, a rename
 * that fails) returns null and the caller removes the worktree with git.
 * No other worktree is listed or touched, and no lock of the repository is
 * needed: the entry is this worktree's alone, and a `git worktree prune`
 * meanwhile deletes the same entry.
 */

/** The directory under the managed root where removed worktrees wait for deletion. */
export const TRASH_DIR = '.trash';

/** Whether the admin entry `dir` (under `<common dir>/worktrees/`) is the registration of `target`. */
const registers = (dir: string, target: string): boolean => readAdminFile(join(dir, 'gitdir'))?.trim() === join(target, '.git');

/**
 * The admin entry of the worktree at `target`: `worktrees/<its name>` as
 * `git worktree add` names it, else (a pooled worktree handed over keeps
 * its `pool-<id>` entry; a name taken first gets a number) the one git
 * finds from the worktree, accepted only directly under `worktrees/` and
 * naming `target` back. Null when there is none.
 */
async function adminEntryOf(commonDir: string, target: string): Promise<string | null> {
  const adminRoot = join(commonDir, 'worktrees');
  const byName = join(adminRoot, basename(target));
  if (registers(byName, target)) return byName;
  const found = await runGit(target, ['rev-parse', '--path-format=absolute', '--git-dir'], { env: { GIT_CEILING_DIRECTORIES: dirname(target) } })
    .then(({ stdout }) => stdout.trim(), () => null);
  if (found === null || resolveReal(dirname(found)) !== resolveReal(adminRoot) || !registers(found, target)) return null;
  return found;
}

/**
 * Moves the worktree at `target` (resolved, directly inside `root`) into the
 * trash and drops its registration. Returns the trash path to delete, or
 * null when this fast way does not apply (nothing was changed then).
 */
export async function detachWorktree(repo: string, root: string, target: string): Promise<string | null> {
  const { commonDir } = await repoLayout(repo);
  const name = basename(target);
  const admin = await adminEntryOf(commonDir, target);
  if (admin === null) return null;
  const trashRoot = join(root, TRASH_DIR);
  mkdirSync(trashRoot, { recursive: true, mode: 0o700 });
  const trash = assertInside(root, join(trashRoot, `${name}-${randomBytes(4).toString('hex')}`));
  try {
    renameSync(target, trash);
  } catch {
    return null;
  }
  // The directory is gone from its path: from here git sees a registered worktree whose directory is missing
  // (prunable), never a directory without a registration. Dropping the entry ends that.
  rmSync(admin, { recursive: true, force: true, maxRetries: 3 });
  return trash;
}
