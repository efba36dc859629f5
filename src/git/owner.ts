import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';

/**
 * Which Mosaic instance made a worktree: its instance id in a file of the
 * worktree's private git directory (`.git/worktrees/<name>/mosaic-owner`),
 * outside the working tree (an agent's `git add -A` never sees it) and
 * following the worktree when git moves it. Several instances may share one
 * repository; reconciliation only ever touches worktrees with its own id.
 */
export const OWNER_FILE = 'mosaic-owner';

/** The worktree's private git directory, from its `.git` file; null when it is not a linked worktree. */
export function privateGitDir(worktreePath: string): string | null {
  let text: string;
  try {
    text = readFileSync(join(worktreePath, '.git'), 'utf8');
  } catch {
    return null;
  }
  const match = /^gitdir: (.+)$/m.exec(text);
  if (!match) return null;
  const dir = match[1]!.trim();
  const full = isAbsolute(dir) ? dir : resolve(worktreePath, dir);
  // Only a directory named like git's own linked-worktree folders: `.git` cannot point the marker elsewhere.
  return dirname(full).endsWith(`${sep}worktrees`) ? full : null;
}

export function writeWorktreeOwner(worktreePath: string, instanceId: string): void {
  const dir = privateGitDir(worktreePath);
  if (dir === null) throw new Error(`${worktreePath} is not a linked worktree`);
  writeFileSync(join(dir, OWNER_FILE), `${instanceId}\n`, { mode: 0o644 });
}

/** The instance id recorded for the worktree, or null when none is (made by hand or by an older Mosaic). */
export function readWorktreeOwner(worktreePath: string): string | null {
  const dir = privateGitDir(worktreePath);
  if (dir === null) return null;
  try {
    const id = readFileSync(join(dir, OWNER_FILE), 'utf8').trim();
    return /^[a-z2-7]{32}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/**
 * Pids of live processes whose working directory lies in `dir` (Linux /proc;
 * none elsewhere). An agent this instance does not know — another instance's,
 * or one started by hand — shows up here, so its worktree is never removed
 * from under it.
 */
export function processesInside(dir: string): number[] {
  const prefix = dir.endsWith(sep) ? dir : `${dir}${sep}`;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^[0-9]+$/.test(name));
  } catch {
    return [];
  }
  const inside: number[] = [];
  for (const pid of pids) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd === dir || cwd.startsWith(prefix)) inside.push(Number(pid));
    } catch {
      // gone, or not ours to inspect
    }
  }
  return inside;
}
