import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `$MOSAIC_HOME/server.lock`, read side: the server that holds a home writes
 * {pid, url, startedAt} there (instance/home-lock.ts takes and releases it);
 * the CLI reads it to find that server when no URL or port is given.
 */
export const LOCK_FILE = 'server.lock';

export interface LockContent {
  pid: number;
  url: string | null;
  startedAt: number;
  /** The kernel's start time of the process (Linux), so a reused pid is not taken for the server. */
  procStart?: string;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; undefined off Linux. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isRunning(lock: LockContent): boolean {
  try {
    process.kill(lock.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A zombie or a process that started after the lock was written is not the server that wrote it.
  const start = procStart(lock.pid);
  if (lock.procStart !== undefined && start !== undefined && start !== lock.procStart) return false;
  try {
    if (/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${lock.pid}/stat`, 'utf8'))) return false;
  } catch {
    // not Linux: kill(0) is all there is
  }
  return true;
}

export function readLock(path: string): LockContent | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    if (!Number.isSafeInteger(parsed.pid) || (parsed.pid as number) <= 0) return null;
    return { pid: parsed.pid as number, url: typeof parsed.url === 'string' ? parsed.url : null, startedAt: Number(parsed.startedAt) || 0,
      ...(typeof parsed.procStart === 'string' ? { procStart: parsed.procStart } : {}) };
  } catch {
    return null;
  }
}


/** The live server recorded in a home's lock, or null when none holds it (no lock, a dead pid, no URL yet). */
export function liveServer(home: string): { pid: number; url: string } | null {
  const lock = readLock(join(home, LOCK_FILE));
  if (!lock || lock.url === null || !isRunning(lock)) return null;
  return { pid: lock.pid, url: lock.url };
}
