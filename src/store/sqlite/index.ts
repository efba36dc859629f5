import type { Store } from '../types.js';
import { SqliteAgentStore } from './agents.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { SqliteEventStore } from './events.js';
import { registeredMigrations, runMigrations, type Migration } from './migrations.js';
import { SqliteRepoStore } from './repos.js';
import { ensureIncrementalVacuum, reclaimSpace } from './space.js';

export interface SqliteStoreOptions {
  /** The schema to apply; defaults to every registered migration. */
  migrations?: readonly Migration[];
  /** Clock for updatedAt and event createdAt (tests). */
  now?: () => number;
}

/**
 * The default Store. `db` is public so modules that own further tables
 * (federation) can build their table classes on the same connection and so
 * share its transactions.
 */
export class SqliteStore implements Store {
  readonly repos: SqliteRepoStore;
  readonly agents: SqliteAgentStore;
  readonly events: SqliteEventStore;

  constructor(readonly db: SqliteDatabase, readonly now: () => number = Date.now) {
    this.repos = new SqliteRepoStore(db);
    this.events = new SqliteEventStore(db, now);
    this.agents = new SqliteAgentStore(db, this.events, now);
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction (a savepoint when nested). Store
   * methods called inside do their work synchronously, so it lands in this
   * transaction — but their failures surface as rejected promises, which do
   * not roll it back; prefer the *Sync methods of the table classes here.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Converts an older file so pruned space can be given back (a one-time VACUUM); true when it did. */
  ensureIncrementalVacuum(): boolean {
    return ensureIncrementalVacuum(this.db);
  }

  /** Gives pruned rows' pages back and checkpoints the WAL; the pages freed. */
  reclaimSpace(): number {
    return reclaimSpace(this.db);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens (creating 0600 if needed) the SQLite store at `file` and brings its
 * schema up to date. Throws MosaicError 500 `store_too_new` when the file was
 * written by a newer schema than this code knows.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  const db = openDatabase(file);
  try {
    runMigrations(db, options.migrations ?? registeredMigrations(), options.now);
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db, options.now);
}

export { SqliteAgentStore, AGENT_STATE_EVENT, type InsertResult } from './agents.js';
export { openDatabase, BUSY_TIMEOUT_MS, type SqliteDatabase } from './database.js';
export { SqliteEventStore, DEFAULT_EVENTS_LIMIT } from './events.js';
export {
  appliedMigrations,
  registerMigrations,
  registeredMigrations,
  runMigrations,
  type AppliedMigration,
  type Migration,
} from './migrations.js';
export { CORE_MIGRATIONS } from './migrations/001-core.js';
export { SqliteRepoStore } from './repos.js';
