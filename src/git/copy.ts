import { chmod, copyFile, lstat, mkdir, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { invalid } from '../core/errors.js';
import { assertInside, assertManagedWorktree, isInside, resolveReal } from './paths.js';

/**
 * Copies untracked files (`.env`, local config) from a repository's main
 * checkout into one of its managed worktrees. Every entry is validated before
 * anything is copied; sources must resolve inside the repository and
 * destinations inside the worktree, also through symlinks.
 */

const MAX_ENTRY_LENGTH = 4096;

function bad(entry: unknown, why: string): never {
  throw invalid('invalid_copy_file', `copyFiles entry ${JSON.stringify(entry)} ${why}`, { entry: String(entry) });
}

/** The entry as a normalized relative path with '/' separators, or a 400. */
export function normalizeCopyEntry(entry: unknown): string {
  if (typeof entry !== 'string' || entry.length === 0 || entry.length > MAX_ENTRY_LENGTH) bad(entry, 'must be a non-empty relative path');
  if (entry.includes('\0')) bad(entry, 'contains a NUL byte');
  if (isAbsolute(entry) || entry.startsWith('\\') || /^[A-Za-z]:/.test(entry)) bad(entry, 'must be relative to the repository');
  const segments = entry.split(/[\\/]+/);
  if (segments.includes('..')) bad(entry, "must not contain '..'");
  const parts = segments.filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) bad(entry, 'names the repository itself');
  if (parts[0] === '.git') bad(entry, "must not reach into git's own directory");
  return parts.join('/');
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
 * Copies a directory's files. Symlinks are followed only to files inside the
 * repository (so no loop and no escape); nested `.git` entries are skipped.
 */
async function copyTree(repo: string, worktree: string, srcDir: string, rel: string, entry: string): Promise<void> {
  for (const child of await readdir(srcDir, { withFileTypes: true })) {
    if (child.name === '.git') continue;
    const childRel = `${rel}/${child.name}`;
    const childSrc = join(srcDir, child.name);
    if (child.isDirectory()) {
      await copyTree(repo, worktree, childSrc, childRel, entry);
    } else if (child.isFile()) {
      await copyOneFile(childSrc, checkedDestination(worktree, childRel, entry));
    } else if (child.isSymbolicLink()) {
      const target = await realpath(childSrc).catch(() => null);
      if (target === null || !isInside(repo, target) || !(await stat(target)).isFile()) continue;
      await copyOneFile(target, checkedDestination(worktree, childRel, entry));
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
    if (!(await lstat(candidate).then(() => true, () => false))) continue; // missing: skip
    let src: string;
    try {
      src = assertInside(repo, candidate);
    } catch {
      return bad(entry, 'resolves outside the repository');
    }
    if (isInside(join(repo, '.git'), src) || src === join(repo, '.git')) bad(entry, "resolves into git's own directory");
    const info = await stat(src).catch(() => null);
    if (info === null) continue; // dangling symlink
    if (!info.isDirectory() && !info.isFile()) bad(entry, 'is neither a file nor a directory');
    plan.push({ rel, entry, src, dest: checkedDestination(worktree, rel, entry), isDirectory: info.isDirectory() });
  }

  for (const item of plan) {
    if (item.isDirectory) await copyTree(repo, worktree, item.src, item.rel, item.entry);
    else await copyOneFile(item.src, item.dest);
  }
  return plan.map((item) => item.rel);
}
