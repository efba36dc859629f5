import { chmodSync, closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, rmdirSync, rmSync, unlinkSync, type Dirent } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, open, readdir, rm, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The one module that touches agent-writable trees (DESIGN §3 "Hostile
 * input"). An agent may have replaced any file or directory there with a
 * symlink or a hard link to something of Mosaic's (the admin token, the
 * repository's `.git/config`), or with a FIFO, a socket or a huge file. So
 * nothing here ever resolves a path through them: every directory is opened
 * with O_NOFOLLOW|O_DIRECTORY and the next component is opened relative to
 * that descriptor (through `/proc/self/fd/<fd>/<name>`, Linux's openat for
 * Node), files are opened O_NOFOLLOW|O_NONBLOCK and checked with fstat
 * (regular, one link) before a byte is read, reads are bounded, and nothing
 * is written, renamed or chmodded inside them; deleting goes descriptor by
 * descriptor too.
 *
 * The trees (all under `$MOSAIC_HOME/agents/<id>/sandbox` but the worktree):
 * the private git dir (`gitdir`), the private HOME (`home`) and tmp (`tmp`),
 * the shared-dir layers (`share/<key>/upper`), and the worktree itself. The
 * worktree is worked on only by git (snapshot, remove), which does not follow
 * symlinks inside a working tree; everything else Mosaic reads or removes
 * there goes through this module.
 */

/** Names of the agent-writable directories inside `$MOSAIC_HOME/agents/<id>/sandbox`. */
export const AGENT_WRITABLE = { gitDir: 'gitdir', home: 'home', tmp: 'tmp', layers: 'share' } as const;

/** Not in Node's constants: Linux's O_PATH (x86_64 and aarch64), for chmod of a directory we cannot open. */
const O_PATH = 0o10000000;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const viaFd = (fd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);
/** A single path component that names a child, never the directory itself or its parent. */
const isChildName = (name: string): boolean => name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');

export class HostileTreeError extends Error {
  constructor(message: string, readonly path: string) {
    super(message);
    this.name = 'HostileTreeError';
  }
}

function fdPathsWork(): boolean {
  try {
    return lstatSync('/proc/self/fd').isDirectory();
  } catch {
    return false;
  }
}

/**
 * Opens `root/parts…` as a directory, each component relative to the one
 * before and never through a symlink. `root` is a path (opened with
 * O_NOFOLLOW too) or an open directory, which stays open.
 */
async function openDir(root: string | FileHandle, parts: readonly string[]): Promise<FileHandle> {
  const where = typeof root === 'string' ? root : viaFd(root.fd);
  let dir: FileHandle | null = typeof root === 'string' ? await open(root, DIR_FLAGS) : null;
  const owned = (): FileHandle => (dir ?? (root as FileHandle));
  try {
    for (const part of parts) {
      if (!isChildName(part)) throw new HostileTreeError(`refusing path component ${JSON.stringify(part)}`, join(where, ...parts));
      const next: FileHandle = await open(viaFd(owned().fd, part), DIR_FLAGS);
      await dir?.close();
      dir = next;
    }
  } catch (err) {
    await dir?.close();
    throw err;
  }
  if (dir === null) throw new HostileTreeError('no directory to open', where);
  return dir;
}

type Opened = { file: FileHandle; size: number } | 'absent' | 'skipped' | 'too_big';

/**
 * Opens `name` in the directory `dir` as a regular file with one link and at
 * most `maxBytes`: `skipped` when it is absent, a link (symbolic or hard) or
 * not a regular file; `too_big` over the limit.
 */
async function openRegular(dir: FileHandle, name: string, maxBytes: number): Promise<Opened> {
  if (!isChildName(name)) return 'skipped';
  let file: FileHandle;
  try {
    file = await open(viaFd(dir.fd, name), FILE_FLAGS);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'skipped'; // a symlink is ELOOP
  }
  const info = await file.stat();
  const verdict = !info.isFile() || info.nlink !== 1 ? 'skipped' : info.size > maxBytes ? 'too_big' : null;
  if (verdict !== null) {
    await file.close();
    return verdict;
  }
  return { file, size: info.size };
}

/**
 * The content of `root/parts…/name` as text when it is a regular file of at
 * most `maxBytes` reached without symlinks or hard links; null when it (or a
 * directory on the way) does not exist. Anything else there — a link, a
 * FIFO, a directory, a file too big — is refused with a HostileTreeError.
 */
export async function readAgentFile(root: string, parts: readonly string[], name: string, maxBytes: number): Promise<string | null> {
  const path = join(root, ...parts, name);
  let dir: FileHandle;
  try {
    dir = await openDir(root, parts);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new HostileTreeError(`refused to read ${path}: a directory on the way is not a plain directory (${(err as Error).message})`, path);
  }
  try {
    const opened = await openRegular(dir, name, maxBytes);
    if (opened === 'absent') return null;
    if (opened === 'skipped') throw new HostileTreeError(`refused to read ${path}: not a regular file with a single link`, path);
    if (opened === 'too_big') throw new HostileTreeError(`refused to read ${path}: larger than ${maxBytes} bytes`, path);
    try {
      const buffer = Buffer.alloc(opened.size);
      const { bytesRead } = await opened.file.read(buffer, 0, opened.size, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await opened.file.close();
    }
  } finally {
    await dir.close();
  }
}

export interface CopiedObjects {
  files: number;
  bytes: number;
}

const LOOSE_DIR = /^[0-9a-f]{2}$/;
const LOOSE_FILE = /^(?:[0-9a-f]{38}|[0-9a-f]{62})$/;
const PACK_FILE = /^pack-(?:[0-9a-f]{40}|[0-9a-f]{64})\.(pack|idx)$/;

/**
 * Copies the object files of an agent's private git dir (`gitDir/objects`:
 * loose objects and pack/idx pairs, nothing else: no `info/alternates`, no
 * commit-graph) into `dest`, a directory Mosaic owns, for git to read there.
 * Entries that are links, hard links or not regular files are skipped (git
 * then misses them and the import fails, loudly). Work is proportional to the
 * agent's own objects; more than `maxBytes` in all is refused.
 */
export async function copyAgentObjects(gitDir: string, dest: string, maxBytes: number): Promise<CopiedObjects> {
  if (!fdPathsWork()) throw new HostileTreeError('reading an agent\'s git dir safely needs /proc/self/fd (Linux)', gitDir);
  const copied: CopiedObjects = { files: 0, bytes: 0 };
  let objects: FileHandle;
  try {
    objects = await openDir(gitDir, ['objects']);
  } catch (err) {
    throw new HostileTreeError(`the agent's object directory cannot be opened safely: ${(err as Error).message}`, join(gitDir, 'objects'));
  }
  const copyOne = async (dir: FileHandle, name: string, to: string): Promise<void> => {
    const opened = await openRegular(dir, name, maxBytes - copied.bytes);
    // Over the limit is refused as a whole, never silently cut; a link or a non-file is skipped.
    if (opened === 'too_big') throw new HostileTreeError(`the agent's objects exceed ${maxBytes} bytes`, join(gitDir, 'objects'));
    if (opened === 'skipped' || opened === 'absent') return;
    try {
      // Reopening the descriptor's own /proc entry copies exactly the inode checked above.
      await copyFile(viaFd(opened.file.fd), to, constants.COPYFILE_EXCL);
      copied.files++;
      copied.bytes += opened.size;
    } finally {
      await opened.file.close();
    }
  };
  try {
    await mkdir(join(dest, 'pack'), { recursive: true, mode: 0o700 });
    for (const entry of await readdir(viaFd(objects.fd), { withFileTypes: true })) {
      if (entry.isDirectory() && LOOSE_DIR.test(entry.name)) {
        const sub = await openDir(objects, [entry.name]).catch(() => null);
        if (sub === null) continue;
        try {
          const names = (await readdir(viaFd(sub.fd))).filter((n) => LOOSE_FILE.test(n));
          if (names.length > 0) await mkdir(join(dest, entry.name), { mode: 0o700 }).catch(() => undefined);
          for (const name of names) await copyOne(sub, name, join(dest, entry.name, name));
        } finally {
          await sub.close();
        }
      } else if (entry.isDirectory() && entry.name === 'pack') {
        const pack = await openDir(objects, ['pack']).catch(() => null);
        if (pack === null) continue;
        try {
          const names = new Set((await readdir(viaFd(pack.fd))).filter((n) => PACK_FILE.test(n)));
          for (const name of names) {
            // Only complete pairs: a pack without its index (or the reverse) is useless to git.
            if (!name.endsWith('.pack') || !names.has(name.replace(/\.pack$/, '.idx'))) continue;
            await copyOne(pack, name, join(dest, 'pack', name));
            await copyOne(pack, name.replace(/\.pack$/, '.idx'), join(dest, 'pack', name.replace(/\.pack$/, '.idx')));
          }
        } finally {
          await pack.close();
        }
      }
    }
  } finally {
    await objects.close();
  }
  return copied;
}

/**
 * Deletes `path` and everything under it without following a symlink
 * anywhere (a link is removed, never its target), descriptor by descriptor.
 * Directories a sandboxed process made unreadable (an overlay's `work/work`
 * is mode 000; an agent may chmod its own) are opened up first, through an
 * O_PATH descriptor of the directory itself, so even the chmod cannot be
 * redirected. Idempotent.
 */
export function removeTree(path: string): void {
  let info;
  try {
    info = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!info.isDirectory()) {
    unlinkSync(path);
    return;
  }
  // Without /proc (not Linux) there is no sandbox, so no tree a sandboxed process wrote: Node's rm, which unlinks links too.
  if (!fdPathsWork()) return rmSync(path, { recursive: true, force: true, maxRetries: 3 });
  const fd = openDirForRemoval(path);
  try {
    emptyDir(fd);
  } finally {
    closeSync(fd);
  }
  rmdirSync(path);
}

/** A directory descriptor opened without following a link, after giving ourselves rwx on it when needed. */
function openDirForRemoval(path: string): number {
  try {
    return openSync(path, DIR_FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
  }
  const handle = openSync(path, O_PATH | constants.O_NOFOLLOW | constants.O_DIRECTORY);
  try {
    chmodSync(viaFd(handle), 0o700);
  } finally {
    closeSync(handle);
  }
  return openSync(path, DIR_FLAGS);
}

function emptyDir(fd: number): void {
  // Root needs no permission bits; anyone else needs rwx to list and unlink (r-x alone refuses unlink).
  if (process.getuid?.() !== 0 && (fstatSync(fd).mode & 0o700) !== 0o700) chmodSync(viaFd(fd), 0o700);
  const entries: Dirent[] = readdirSync(viaFd(fd), { withFileTypes: true });
  for (const entry of entries) {
    const child = viaFd(fd, entry.name);
    const isDir = entry.isDirectory() || (!entry.isSymbolicLink() && !entry.isFile() && lstatSync(child).isDirectory());
    if (!isDir) {
      unlinkSync(child);
      continue;
    }
    const sub = openDirForRemoval(child);
    try {
      emptyDir(sub);
    } finally {
      closeSync(sub);
    }
    rmdirSync(child);
  }
}

/** Background removals in flight (see `removeTreeInBackground`). */
const removals = new Set<Promise<void>>();

/**
 * `removeTree` off the caller's path: the same descriptor-by-descriptor
 * deletion, one file system call at a time through Node's thread pool, so
 * a tree of many thousand files neither blocks the event loop nor crowds
 * out other file I/O. For trees already renamed out of every agent's and
 * user's way (a removed worktree under `<repo>_worktrees/.trash/`). Failures
 * go to `onError`; `settleBackgroundRemovals` waits for all of them.
 */
export function removeTreeInBackground(path: string, onError: (err: unknown) => void = () => undefined): void {
  const removal = removeTreeAsync(path).catch(onError).finally(() => removals.delete(removal));
  removals.add(removal);
}

/** Resolves when every background removal started so far has ended. */
export async function settleBackgroundRemovals(): Promise<void> {
  while (removals.size > 0) await Promise.allSettled([...removals]);
}

const isGone = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

async function removeTreeAsync(path: string): Promise<void> {
  let info;
  try {
    info = await lstat(path);
  } catch (err) {
    if (isGone(err)) return;
    throw err;
  }
  if (!info.isDirectory()) return unlink(path).catch((err: unknown) => { if (!isGone(err)) throw err; });
  if (!fdPathsWork()) return rm(path, { recursive: true, force: true, maxRetries: 3 });
  const dir = await openDirForRemovalAsync(path);
  if (dir === null) return;
  try {
    await emptyDirAsync(dir);
  } finally {
    await dir.close();
  }
  await rmdir(path).catch((err: unknown) => { if (!isGone(err)) throw err; });
}

/** `openDirForRemoval` through a FileHandle; null when the directory is gone meanwhile. */
async function openDirForRemovalAsync(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, DIR_FLAGS);
  } catch (err) {
    if (isGone(err)) return null;
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
  }
  // Rare (a directory its agent made unreadable): the synchronous O_PATH chmod, then open.
  closeSync(openDirForRemoval(path));
  return open(path, DIR_FLAGS);
}

async function emptyDirAsync(dir: FileHandle): Promise<void> {
  if (process.getuid?.() !== 0 && ((await dir.stat()).mode & 0o700) !== 0o700) await chmod(viaFd(dir.fd), 0o700);
  const entries: Dirent[] = await readdir(viaFd(dir.fd), { withFileTypes: true });
  for (const entry of entries) {
    const child = viaFd(dir.fd, entry.name);
    try {
      const isDir = entry.isDirectory() || (!entry.isSymbolicLink() && !entry.isFile() && (await lstat(child)).isDirectory());
      if (!isDir) {
        await unlink(child);
        continue;
      }
      const sub = await openDirForRemovalAsync(child);
      if (sub === null) continue;
      try {
        await emptyDirAsync(sub);
      } finally {
        await sub.close();
      }
      await rmdir(child);
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
}
