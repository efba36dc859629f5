import pg from 'pg';
import { MosaicError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { redactUrl } from './pool.js';

/** The advisory lock a standalone instance holds on its database ('mosaic' + 'ownr' as bytes). */
export const OWNER_LOCK_KEY = 0x6d6f7361_6f776e72n;
const RETRY_MS = 2000;

export interface OwnerLock {
  release(): Promise<void>;
}

/**
 * One standalone instance per database, as one server per home: two would
 * run the same queue twice. The instance holds a session advisory lock on a
 * connection of its own (outside the pool) for as long as it runs; a second
 * instance finds it taken and refuses to start (409 `database_in_use`). A
 * lock whose holder died goes with its connection. When the connection is
 * lost (the server restarted), it is taken again once the server is back.
 */
export async function acquireOwnerLock(url: string, logger?: Logger, opts: { shared?: boolean } = {}): Promise<OwnerLock> {
  // The nodes of one cluster share the database: each holds the lock shared, so they all run together while a
  // standalone instance (exclusive) and a cluster exclude each other.
  const take = opts.shared === true ? 'pg_try_advisory_lock_shared' : 'pg_try_advisory_lock';
  let released = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<boolean> => {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    next.on('error', () => undefined); // a lost connection also ends it: handled by 'end'
    await next.connect();
    const { rows } = await next.query<{ locked: boolean }>(`SELECT ${take}($1) AS locked`, [OWNER_LOCK_KEY.toString()]);
    if (rows[0]?.locked !== true) {
      await next.end().catch(() => undefined);
      return false;
    }
    client = next;
    next.once('end', () => {
      if (released) return;
      client = undefined;
      logger?.warn('lost the database lock connection; taking the lock again once the database is back');
      schedule();
    });
    return true;
  };
  const schedule = (): void => {
    retry = setTimeout(() => {
      connect().then((held) => {
        if (!held) logger?.error('another instance took this database while it could not be reached; this instance should be stopped');
      }, () => schedule());
    }, RETRY_MS);
    retry.unref();
  };

  if (!(await connect())) {
    throw new MosaicError(409, 'database_in_use',
      opts.shared === true
        ? `a standalone Mosaic instance is running on the database at ${redactUrl(url)}; stop it first (a cluster's nodes share a database with nothing else)`
        : `another Mosaic instance is running on the database at ${redactUrl(url)}; stop it first (one standalone instance per database)`);
  }
  return {
    async release() {
      released = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
