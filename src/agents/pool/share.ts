import { constants } from 'node:fs';
import { copyFile, cp, lstat, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assertInside, resolveReal } from '../../git/index.js';

/**
 * `shareDirs`: a directory produced once in the main checkout (e.g.
 * `node_modules` after an install) given to each new worktree without a full
 * copy where the filesystem allows it. Each worktree gets its own copy-on-write
 * clone (reflink: btrfs, xfs, ...), so a write by one agent reaches neither
 * another agent nor the main checkout; on filesystems without reflinks
 * (ext4) it falls back to a plain copy, which is as safe but saves nothing.
 * Hard links are never used: an in-place write would reach the shared inode.
 */
export type ShareMode = 'reflink' | 'copy';

const probes = new Map<string, Promise<boolean>>();

/** Whether files in `dir` can be cloned (FICLONE); asked once per directory. */
export function reflinkSupported(dir: string): Promise<boolean> {
  const key = resolveReal(dir);
  let probe = probes.get(key);
  if (!probe) {
    probe = (async () => {
      const src = join(key, `.mosaic-reflink-probe-${process.pid}`);
      const dest = `${src}.clone`;
      try {
        await mkdir(key, { recursive: true });
        await writeFile(src, 'probe');
        await copyFile(src, dest, constants.COPYFILE_FICLONE_FORCE);
        return true;
      } catch {
        return false;
      } finally {
        await rm(src, { force: true });
        await rm(dest, { force: true });
      }
    })();
    probes.set(key, probe);
  }
  return probe;
}

export interface SharedDir {
  dir: string;
  mode: ShareMode;
}

/**
 * Gives each of `dirs` from the main checkout to the worktree. A directory
 * missing in the main checkout, or already present in the worktree (tracked
 * content, or a previous setup's output), is left alone. Sources must be real
 * directories inside the repository; symlinks inside them are copied as
 * links, never followed.
 */
export async function provideShareDirs(repoPath: string, worktreePath: string, dirs: readonly string[]): Promise<SharedDir[]> {
  if (dirs.length === 0) return [];
  const repo = resolveReal(repoPath);
  const worktree = resolveReal(worktreePath);
  const mode: ShareMode = (await reflinkSupported(dirname(worktree))) ? 'reflink' : 'copy';
  const done: SharedDir[] = [];
  for (const dir of dirs) {
    const source = join(repo, dir);
    const info = await lstat(source).catch(() => null);
    if (!info?.isDirectory()) continue; // absent, or a symlink that could point anywhere
    const src = assertInside(repo, source);
    if (src === join(repo, '.git') || src.startsWith(join(repo, '.git') + '/')) continue;
    const dest = assertInside(worktree, join(worktree, dir));
    if (await stat(dest).then(() => true, () => false)) continue;
    await mkdir(dirname(dest), { recursive: true });
    await cp(src, dest, {
      recursive: true,
      verbatimSymlinks: true,
      preserveTimestamps: true,
      errorOnExist: false,
      force: false,
      mode: mode === 'reflink' ? constants.COPYFILE_FICLONE_FORCE : 0,
    });
    done.push({ dir, mode });
  }
  return done;
}
