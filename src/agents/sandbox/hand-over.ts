import { lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentUser } from './agent-user.js';

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
export async function handOver(roots: readonly string[], user: AgentUser, ownUid = process.getuid?.() ?? -1): Promise<number> {
  let changed = 0;
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
    const isDir = info.isDirectory();
    if (info.uid === ownUid && (isDir || info.nlink === 1)) {
      lchownSync(path, user.uid, user.gid);
      changed += 1;
    }
    if (!isDir) continue;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      continue;
    }
    for (const name of names) pending.push(join(path, name));
  }
  return changed;
}
