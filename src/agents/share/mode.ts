import { constants } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { managedRoot, resolveReal } from '../../git/index.js';
import { overlaySupport, willSandbox } from '../sandbox/index.js';

/**
 * How a repository's shareDirs reach a worktree, chosen by what this machine
 * can do (each probe runs once):
 * 1. `reflink` where the worktrees' filesystem clones files (btrfs, xfs, ...):
 *    every worktree gets its own copy-on-write copy, sandboxed or not;
 * 2. `overlay` where the agent runs in the sandbox and an overlay can be
 *    mounted under it: a read-only shared snapshot plus a private layer;
 * 3. `copy` otherwise: a full copy. Hard links are never used: an agent owns
 *    the files it is given and could write through a link into everyone's copy.
 */
export type ShareMode = 'reflink' | 'overlay' | 'copy';

const reflinkProbes = new Map<string, Promise<boolean>>();

/** Whether files in `dir` can be cloned (FICLONE); asked once per directory. */
export function reflinkSupported(dir: string): Promise<boolean> {
  const key = resolveReal(dir);
  let probe = reflinkProbes.get(key);
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
    reflinkProbes.set(key, probe);
  }
  return probe;
}

/** The mode for a worktree of the repository at `repoPath` used by an agent of `origin` (`local` for the pool). */
export async function shareModeFor(config: Pick<Config, 'home' | 'bwrapPath' | 'sandbox'>, repoPath: string, origin: string): Promise<ShareMode> {
  if (await reflinkSupported(managedRoot(repoPath))) return 'reflink';
  if (willSandbox(config, origin) && overlaySupport(config).available) return 'overlay';
  return 'copy';
}
