import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MosaicError } from '../core/errors.js';

/**
 * One home, one server. Two servers on one `$MOSAIC_HOME` would run the same
 * agents twice and snapshot each other's worktrees, so `mosaic up` holds
 * `$MOSAIC_HOME/server.lock` ({pid, url, startedAt}) while it runs. A lock
 * whose process is gone (a crashed server) is taken over.
 */
export const LOCK_FILE = 'server.lock';

interface LockContent {
  pid: number;
  url: string | null;
  startedAt: number;
  /** The kernel's start time of the process (Linux), so a reused pid is not taken for the server. */
  procStart?: string;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; undefined off Linux. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function isRunning(lock: LockContent): boolean {
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

function readLock(path: string): LockContent | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    if (!Number.isSafeInteger(parsed.pid) || (parsed.pid as number) <= 0) return null;
    return { pid: parsed.pid as number, url: typeof parsed.url === 'string' ? parsed.url : null, startedAt: Number(parsed.startedAt) || 0,
      ...(typeof parsed.procStart === 'string' ? { procStart: parsed.procStart } : {}) };
  } catch {
    return null;
  }
}

export interface HomeLock {
  /** Records the URL the server listens on, once it is known. */
  setUrl(url: string): void;
  release(): void;
}

/** Takes the home's server lock, or throws 409 `home_in_use` naming the running server (pid, URL). */
export function acquireHomeLock(home: string): HomeLock {
  const path = join(home, LOCK_FILE);
  const mine: LockContent = { pid: process.pid, url: null, startedAt: Date.now(), ...(procStart(process.pid) ? { procStart: procStart(process.pid)! } : {}) };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = readLock(path);
      if (held && isRunning(held)) {
        throw new MosaicError(409, 'home_in_use',
          `another Mosaic server is running on ${home}: pid ${held.pid}${held.url ? `, ${held.url}` : ''} (stop it first, or use another MOSAIC_HOME)`,
          { pid: held.pid, url: held.url, home });
      }
      // Left by a server that is gone (or half-written by one that died at once): take it over.
      if (attempt >= 3) throw new MosaicError(409, 'home_in_use', `cannot take the server lock of ${home}`, { home });
      rmSync(path, { force: true });
      continue;
    }
    writeSync(fd, `${JSON.stringify(mine)}\n`);
    closeSync(fd);
    break;
  }
  const ours = (): boolean => readLock(path)?.pid === process.pid && readLock(path)?.startedAt === mine.startedAt;
  return {
    setUrl(url) {
      if (!ours()) return;
      mine.url = url;
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify(mine)}\n`, { mode: 0o600 });
      renameSync(tmp, path);
    },
    release() {
      if (ours()) rmSync(path, { force: true });
    },
  };
}
