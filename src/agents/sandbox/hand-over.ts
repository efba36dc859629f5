import { lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentUser } from './agent-user.js';

/** Directories read at once while handing a tree over (bounded, so a huge tree cannot exhaust file descriptors). */
const PARALLEL_DIRS = 8;

/**
 * Gives the trees an agent writes in (its worktree, its private HOME, tmp
 * and git dir, its shared-dir layers) to the agent user, before anything of
 * the agent runs in them: what Mosaic made there as root (a checkout, copied
 * files, the private git dir) becomes the agent's to change.
 *
 * Only what Mosaic's own uid owns is changed, never through a link: symbolic
 * links are left as they are (lchown is never needed for them), and a file
 * with more than one name (a hard link, which could be the same inode as a
 * file outside the tree) is skipped. Nothing of the agent runs while this
 * walks (it is called before its setup and its runtime start, and a previous
 * run's processes died with their sandbox), so the tree does not change
 * underneath. Missing roots are skipped.
 */
export async function handOver(roots: readonly string[], user: AgentUser, ownUid = process.getuid?.() ?? -1): Promise<number> {
  let changed = 0;
  const visit = async (path: string): Promise<string | null> => {
    const info = await lstat(path).catch(() => null);
    if (info === null || info.isSymbolicLink()) return null;
    const isDir = info.isDirectory();
    if (info.uid === ownUid && (isDir || info.nlink === 1)) {
      await lchown(path, user.uid, user.gid);
      changed += 1;
    }
    return isDir ? path : null;
  };
  let dirs = (await Promise.all(roots.map(visit))).filter((d): d is string => d !== null);
  while (dirs.length > 0) {
    const next: string[] = [];
    for (let i = 0; i < dirs.length; i += PARALLEL_DIRS) {
      const batch = dirs.slice(i, i + PARALLEL_DIRS);
      await Promise.all(batch.map(async (dir) => {
        const names = await readdir(dir).catch(() => [] as string[]);
        for (const found of await Promise.all(names.map((name) => visit(join(dir, name))))) if (found !== null) next.push(found);
      }));
    }
    dirs = next;
  }
  return changed;
}
