import { Kysely, PostgresDialect } from '../kysely.js';
import pg from 'pg';
import { MosaicError, messageOf } from '../../core/errors.js';
import type { Migration } from '../migrations/migration.js';
import { registeredMigrations } from '../migrations/registry.js';
import type { CoreTables } from '../sql/schema.js';
import { SqlStore, type Backend } from '../sql/store.js';
import { runPostgresMigrations } from './migrate.js';
import { CONNECT_TIMEOUT_MS, createPool, DEFAULT_POOL_SIZE, describeUrl, redactUrl } from './pool.js';

export interface PostgresStoreOptions {
  migrations?: readonly Migration[];
  now?: () => number;
  /** Connections at most (MOSAIC_DATABASE_POOL). */
  poolSize?: number;
  /** Told of connections the server dropped while idle (the pool replaces them). */
  onIdleError?: (err: Error) => void;
}

/** A database server shared by any number of processes; the pool bounds this one's connections. */
export class PostgresBackend implements Backend {
  readonly dialect = 'postgres';
  readonly description: string;

  constructor(readonly pool: pg.Pool, readonly url: string) {
    this.description = describeUrl(url);
  }

  /** The server reclaims space itself (autovacuum). */
  async reclaimSpace(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    // Kysely's destroy ends the pool it was given.
  }
}

/**
 * The database cannot be reached (or was lost): one line naming where,
 * never the password. 503 `store_unavailable`.
 */
export function storeUnreachable(url: string, err: unknown): MosaicError {
  return new MosaicError(503, 'store_unavailable', `cannot reach the database at ${redactUrl(url)}: ${messageOf(err)}`);
}

/**
 * Connects to the PostgreSQL database at `url` and brings its schema up to
 * date (under an advisory lock, see migrate.ts). Throws 503
 * `store_unavailable` when the server cannot be reached.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<SqlStore> {
  const pool = createPool(url, options.poolSize ?? DEFAULT_POOL_SIZE, options.onIdleError);
  try {
    // Reachable at all, within a few seconds (the pool itself waits longer for a free connection).
    const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
    } catch (err) {
      throw storeUnreachable(url, err);
    } finally {
      await probe.end().catch(() => undefined);
    }
    await runPostgresMigrations(pool, options.migrations ?? registeredMigrations(), options.now);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const db = new Kysely<CoreTables>({ dialect: new PostgresDialect({ pool }) });
  return new SqlStore(db, new PostgresBackend(pool, url), options.now);
}

export { acquireOwnerLock, OWNER_LOCK_KEY, type OwnerLock } from './owner-lock.js';
export { appliedPostgresMigrations, runPostgresMigrations, MIGRATION_LOCK_KEY } from './migrate.js';
export { createPool, DEFAULT_POOL_SIZE, describeUrl, isPostgresUrl, redactUrl } from './pool.js';
