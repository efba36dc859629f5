import { lchownSync, lstatSync, readdirSync, type Stats } from 'node:fs';
import { join, relative } from 'node:path';

/** Who a hand-over gives entries to (the agent user; a layered worktree's base owner). */
export interface FileOwner {
  uid: number;
  gid: number;
}

/** Entries handled between two yields to the event loop (the walk's system calls are synchronous: half the cost of the threadpool's). */
const ENTRIES_PER_SLICE = 512;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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
 *
 * A checkout of thousands of files is one lstat and one lchown each: done
 * with synchronous calls in slices, yielding between them so the server keeps
 * answering, which is about twice as fast as going through the threadpool.
 */
export async function handOver(roots: readonly string[], user: FileOwner, ownUid = process.getuid?.() ?? -1): Promise<number> {
  let changed = 0;
  await walkEntries(roots, (path, info) => {
    if (!ownedAlone(info, ownUid)) return;
    lchownSync(path, user.uid, user.gid);
    changed += 1;
  });
  return changed;
}

/**
 * The hand-over of an overlay's upper layer (git/layered.ts): what comes
 * from the layers below already belongs to the owner, so only what sits in
 * `upper` can need a new one — in a layered worktree the `.git` file, copied
 * files, what Mosaic or an earlier run made there; in a diff base (git/
 * layered-bases.ts) what git wrote. The layer is walked as handOver walks a
 * tree, and each entry is changed through the mount (`merged`): the overlay
 * keeps its view of an owner in step only with changes made through it.
 */
export async function handOverLayer(upper: string, merged: string, user: FileOwner, ownUid = process.getuid?.() ?? -1): Promise<number> {
  let changed = 0;
  await walkEntries([upper], (path, info) => {
    if (!ownedAlone(info, ownUid)) return;
    const seenAt = join(merged, relative(upper, path));
    try {
      // The merged entry is checked as well: a whiteout in the layer (a deletion) has none, or one of another kind.
      const seen = lstatSync(seenAt);
      if (seen.isSymbolicLink() || seen.isDirectory() !== info.isDirectory() || seen.uid !== ownUid) return;
    } catch {
      return; // not in the merged view: nothing to hand over
    }
    lchownSync(seenAt, user.uid, user.gid);
    changed += 1;
  });
  return changed;
}

/** Mosaic's own, and (unless a directory) the only name of its inode: a hard link could be a file outside the tree. */
function ownedAlone(info: Stats, ownUid: number): boolean {
  return info.uid === ownUid && (info.isDirectory() || info.nlink === 1);
}

/** Visits every entry under `roots` (the roots too), never through a symbolic link (those are not visited); missing ones are skipped. */
async function walkEntries(roots: readonly string[], visit: (path: string, info: Stats) => void): Promise<void> {
  let budget = ENTRIES_PER_SLICE;
  const pending = [...roots];
  while (pending.length > 0) {
    const path = pending.pop() as string;
    if (--budget <= 0) {
      budget = ENTRIES_PER_SLICE;
      await yieldToLoop();
    }
    let info;
    try {
      info = lstatSync(path);
    } catch {
      continue; // gone: nothing to hand over
    }
    if (info.isSymbolicLink()) continue;
    visit(path, info);
    if (!info.isDirectory()) continue;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      continue;
    }
    for (const name of names) pending.push(join(path, name));
  }
}
