import { closeSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MosaicError } from '../core/errors.js';
import { isRunning, LOCK_FILE, procStart, readLock, type LockContent } from '../core/server-lock.js';

export { LOCK_FILE } from '../core/server-lock.js';

/**
 * One home, one server. Two servers on one `$MOSAIC_HOME` would run the same
 * agents twice and snapshot each other's worktrees, so `mosaic up` holds
 * `$MOSAIC_HOME/server.lock` ({pid, url, startedAt}) while it runs. A lock
 * whose process is gone (a crashed server) is taken over.
 */
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
