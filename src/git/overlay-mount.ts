import { execFile } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/** Host-side overlay mounts of layered worktrees and of base builds (layered.ts, layered-bases.ts); root only. */

const run = promisify(execFile);

/** Whether `path` is a mount point: its device differs from its parent's. */
export function isMountPoint(path: string): boolean {
  try {
    return lstatSync(path).dev !== lstatSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

/**
 * Mounts an overlay named `source` on `target`. The layer paths in
 * `options` are relative to `cwd` (made of names Mosaic chose), so no host
 * path is ever parsed as a mount option.
 */
export async function mountOverlay(source: string, options: string, target: string, cwd: string, timeoutMs?: number): Promise<void> {
  await run('mount', ['-t', 'overlay', source, '-o', options, '--', target], { cwd, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) });
}

/** Unmounts the overlay on `target` (lazily when something still holds it); nothing when it is not mounted. */
export async function unmountOverlay(target: string): Promise<void> {
  if (!isMountPoint(target)) return;
  try {
    await run('umount', ['--', target]);
  } catch {
    await run('umount', ['-l', '--', target]);
  }
}
