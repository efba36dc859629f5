import { Kysely } from '../kysely.js';
import type { Migration } from '../migrations/migration.js';
import { registeredMigrations } from '../migrations/registry.js';
import type { CoreTables } from '../sql/schema.js';
import { SqlStore, type Backend } from '../sql/store.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { ImmediateSqliteDialect } from './dialect.js';
import { runSqliteMigrations } from './migrate.js';
import { ensureIncrementalVacuum, reclaimSpace } from './space.js';

export interface SqliteStoreOptions {
  /** The schema to apply; defaults to every registered migration. */
  migrations?: readonly Migration[];
  /** Clock for updatedAt and event createdAt (tests). */
  now?: () => number;
}

/** The embedded backend: one file, one connection per process (WAL lets other processes read meanwhile). */
export class SqliteBackend implements Backend {
  readonly dialect = 'sqlite';
  readonly description: string;

  constructor(readonly raw: SqliteDatabase, readonly file: string) {
    this.description = `SQLite ${file}`;
  }

  /** Converts an older file so pruned space can be given back (a one-time VACUUM); true when it did. */
  ensureIncrementalVacuum(): boolean {
    return ensureIncrementalVacuum(this.raw);
  }

  async reclaimSpace(): Promise<number> {
    return reclaimSpace(this.raw);
  }

  async close(): Promise<void> {
    if (this.raw.open) this.raw.close();
  }
}

/**
 * Opens (creating 0600 if needed) the SQLite store at `file` and brings its
 * schema up to date. Throws MosaicError 500 `store_too_new` when the file was
 * written by a newer schema than this code knows.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqlStore {
  const raw = openDatabase(file);
  try {
    runSqliteMigrations(raw, options.migrations ?? registeredMigrations(), options.now);
  } catch (err) {
    raw.close();
    throw err;
  }
  const db = new Kysely<CoreTables>({ dialect: new ImmediateSqliteDialect(raw) });
  return new SqlStore(db, new SqliteBackend(raw, file), options.now);
}

/** The better-sqlite3 handle under a SQLite store (tests, maintenance); throws for another backend. */
export function sqliteHandle(store: SqlStore): SqliteDatabase {
  if (!(store.backend instanceof SqliteBackend)) throw new Error(`not a SQLite store: ${store.describe()}`);
  return store.backend.raw;
}

export { openDatabase, BUSY_TIMEOUT_MS, type SqliteDatabase } from './database.js';
export { appliedMigrations, runSqliteMigrations } from './migrate.js';
