import type { Migration } from './migrations/migration.js';
import { openPostgresStore } from './postgres/index.js';
import type { SqlStore } from './sql/store.js';
import { openSqliteStore } from './sqlite/index.js';

export interface StoreTarget {
  /** A postgres:// URL (MOSAIC_DATABASE_URL); without it, the SQLite file. */
  databaseUrl?: string | undefined;
  /** The SQLite file ($MOSAIC_HOME/mosaic.db). */
  sqliteFile: string;
  poolSize?: number;
  migrations?: readonly Migration[];
  now?: () => number;
  onIdleError?: (err: Error) => void;
}

/** PostgreSQL when a database URL is configured, the embedded SQLite file otherwise. */
export async function openStore(target: StoreTarget): Promise<SqlStore> {
  const common = { ...(target.migrations ? { migrations: target.migrations } : {}), ...(target.now ? { now: target.now } : {}) };
  if (target.databaseUrl !== undefined && target.databaseUrl !== '') {
    return openPostgresStore(target.databaseUrl, {
      ...common,
      ...(target.poolSize === undefined ? {} : { poolSize: target.poolSize }),
      ...(target.onIdleError ? { onIdleError: target.onIdleError } : {}),
    });
  }
  return openSqliteStore(target.sqliteFile, common);
}
