import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

/** A mount point as /proc/self/mountinfo writes it: space, tab, newline and backslash as octal escapes. */
const unescapeMountPath = (raw: string): string => raw.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/**
 * Unmounts everything mounted under `dir` (deepest first): the layered
 * worktrees (git/layered.ts) a test's server left mounted, so its temporary
 * directory can be deleted. Nothing outside Linux or without mounts.
 */
export function unmountUnder(dir: string): void {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const points = info.split('\n').map((line) => line.split(' ')[4]).filter((p): p is string => p !== undefined)
    .map(unescapeMountPath).filter((p) => p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
  for (const point of points) {
    try {
      execFileSync('umount', ['-l', '--', point], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/** Deletes a test's directory, unmounting first what a server mounted in it (layered worktrees; else EBUSY). */
export function removeMounted(dir: string): void {
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}
