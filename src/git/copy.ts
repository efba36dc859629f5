import { chmod, copyFile, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { invalid } from '../core/errors.js';
import { assertInside, assertManagedWorktree, isInside, resolveReal } from './paths.js';

/**
 * Copies untracked files (`.env`, local config) from a repository's main
 * checkout into one of its managed worktrees. Every entry is validated before
 * anything is copied. A symlink is never followed, on either side: the
 * worktree is checked out from a branch anyone with push access shapes, and a
 * `.env` there that is a symlink (dangling or not, or any directory on the
 * way to it) would make the copy write outside the worktree.
 */

const MAX_ENTRY_LENGTH = 4096;

function bad(entry: unknown, why: string): never {
  throw invalid('invalid_copy_file', `copyFiles entry ${JSON.stringify(entry)} ${why}`, { entry: String(entry) });
}

/** The entry as a normalized relative path with '/' separators, or a 400. */
export function normalizeCopyEntry(entry: unknown): string {
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > MAX_ENTRY_LENGTH) bad(entry, 'must be a non-empty relative path');
  // Control characters (NUL, newline, escape, DEL, C1): a name with a newline splits lines in git's
  // info/exclude and every listing that shows it, and no one means a file named that way.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(entry)) bad(entry, 'contains a control character');
  if (isAbsolute(entry) || entry.startsWith('\\') || /^[A-Za-z]:/.test(entry)) bad(entry, 'must be relative to the repository');
  const segments = entry.split(/[\\/]+/);
  if (segments.includes('..')) bad(entry, "must not contain '..'");
  const parts = segments.filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) bad(entry, 'names the repository itself');
  // Any `.git` (also a nested repository's, and in any case: some file systems ignore case).
  if (parts.some((p) => p.toLowerCase() === '.git')) bad(entry, "must not reach into git's own directory");
  return parts.join('/');
}

function symlinkRefused(entry: string, where: string, path: string): never {
  throw invalid('copy_file_symlink', `copyFiles entry ${JSON.stringify(entry)} is refused: ${path} in the ${where} is a symlink (copyFiles never follows symlinks)`,
    { entry, path, where });
}

/**
 * Refuses when `root/rel` or any directory on the way to it is a symlink,
 * dangling or not. Components that do not exist yet are fine (they are made
 * as plain directories). `root` itself is the resolved repository or worktree.
 */
async function refuseSymlinks(root: string, rel: string, entry: string, where: 'repository' | 'worktree'): Promise<void> {
  let path = root;
  for (const part of rel.split('/')) {
    path = join(path, part);
    const info = await lstat(path).catch(() => null);
    if (info === null) return;
    if (info.isSymbolicLink()) symlinkRefused(entry, where, path);
  }
}

function checkedDestination(worktree: string, rel: string, entry: string): string {
  try {
    return assertInside(worktree, join(worktree, rel));
  } catch {
    return bad(entry, 'resolves outside the worktree');
  }
}

async function copyOneFile(src: string, dest: string): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(src, dest);
  await chmod(dest, (await stat(src)).mode & 0o7777);
}

/**
 * Copies a directory's files and subdirectories. Symlinks in the source are
 * skipped (never followed); nested `.git` entries are skipped; a symlink in
 * the worktree where a file or directory would go refuses the copy.
 */
async function copyTree(worktree: string, srcDir: string, rel: string, entry: string): Promise<void> {
  for (const child of await readdir(srcDir, { withFileTypes: true })) {
    if (child.name.toLowerCase() === '.git') continue;
    const childRel = `${rel}/${child.name}`;
    const childSrc = join(srcDir, child.name);
    if (child.isDirectory()) {
      await copyTree(worktree, childSrc, childRel, entry);
    } else if (child.isFile()) {
      await refuseSymlinks(worktree, childRel, entry, 'worktree');
      await copyOneFile(childSrc, checkedDestination(worktree, childRel, entry));
    }
  }
}

interface Planned {
  rel: string;
  entry: string;
  src: string;
  dest: string;
  isDirectory: boolean;
}

export async function copyIntoWorktree(repoPath: string, worktreePath: string, files: readonly string[]): Promise<string[]> {
  if (!Array.isArray(files)) throw invalid('invalid_copy_file', 'copyFiles must be an array of relative paths');
  const entries = files.map((entry) => ({ entry, rel: normalizeCopyEntry(entry) }));
  const repo = resolveReal(repoPath);
  const worktree = assertManagedWorktree(repo, worktreePath);
  if (!(await stat(worktree).then((info) => info.isDirectory(), () => false))) {
    throw invalid('not_a_worktree', `worktree ${worktree} does not exist`, { path: worktree });
  }

  // Check every entry before copying any, so a bad list copies nothing.
  const plan: Planned[] = [];
  for (const { entry, rel } of entries) {
    const candidate = join(repo, rel);
    await refuseSymlinks(repo, rel, entry, 'repository');
    if (!(await lstat(candidate).then(() => true, () => false))) continue; // missing: skip
    await refuseSymlinks(worktree, rel, entry, 'worktree');
    let src: string;
    try {
      src = assertInside(repo, candidate);
    } catch {
      return bad(entry, 'resolves outside the repository');
    }
    if (isInside(join(repo, '.git'), src) || src === join(repo, '.git')) bad(entry, "resolves into git's own directory");
    const info = await lstat(src);
    if (!info.isDirectory() && !info.isFile()) bad(entry, 'is neither a file nor a directory');
    plan.push({ rel, entry, src, dest: checkedDestination(worktree, rel, entry), isDirectory: info.isDirectory() });
  }

  for (const item of plan) {
    if (item.isDirectory) await copyTree(worktree, item.src, item.rel, item.entry);
    else await copyOneFile(item.src, item.dest);
  }
  return plan.map((item) => item.rel);
}
