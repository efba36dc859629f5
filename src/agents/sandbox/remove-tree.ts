import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `rm -rf` that also removes what a sandboxed process left unreadable: an
 * overlay's `work/work` directory is made with mode 000, and an agent may
 * chmod its own directories to 000. Root ignores modes; a normal user must
 * first give itself rwx on every directory (never following symlinks).
 */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true, maxRetries: 3 });
    return;
  } catch (err) {
    if (!['EACCES', 'EPERM', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  openUp(path);
  rmSync(path, { recursive: true, force: true, maxRetries: 3 });
}

function openUp(dir: string): void {
  try {
    if (!lstatSync(dir).isDirectory()) return;
    chmodSync(dir, 0o700);
    for (const name of readdirSync(dir)) openUp(join(dir, name));
  } catch {
    // gone, or not ours: rmSync reports what is left
  }
}
