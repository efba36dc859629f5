import type { Store, StoreTables } from '../types.js';
import { SqlAgentStore } from './agents.js';
import { atomic, type Dialect, type SqlContext } from './context.js';
import { SqlEventStore } from './events.js';
import { SqlRepoStore } from './repos.js';
import type { CoreDb, CoreTables } from './schema.js';

/** What differs between backends besides SQL: space upkeep and how the store names itself. */
export interface Backend {
  readonly dialect: Dialect;
  /** `SQLite <path>` or `PostgreSQL <host>/<db>` (never a password). */
  readonly description: string;
  /** Gives pruned rows' space back; the pages freed (0 where the server does it itself). */
  reclaimSpace(): Promise<number>;
  close(): Promise<void>;
}

function tables(ctx: SqlContext<CoreTables>): StoreTables {
  return { repos: new SqlRepoStore(ctx), events: new SqlEventStore(ctx), agents: new SqlAgentStore(ctx) };
}

/**
 * The Store on either backend: one query layer (Kysely) whose table classes
 * run on the store's executor, or on a transaction's. `sql` is public so
 * modules that own further tables (federation) build theirs on the same
 * executor and so share its transactions.
 */
export class SqlStore implements Store {
  readonly repos: SqlRepoStore;
  readonly agents: SqlAgentStore;
  readonly events: SqlEventStore;
  readonly sql: SqlContext<CoreTables>;
  private closed = false;

  constructor(db: CoreDb, readonly backend: Backend, readonly now: () => number = Date.now) {
    this.sql = { db, dialect: backend.dialect, now };
    this.repos = new SqlRepoStore(this.sql);
    this.events = new SqlEventStore(this.sql);
    this.agents = new SqlAgentStore(this.sql);
  }

  get dialect(): Dialect {
    return this.backend.dialect;
  }

  /** `SQLite <path>` or `PostgreSQL <host>/<db>`. */
  describe(): string {
    return this.backend.description;
  }

  /** Runs `fn` in one transaction; the tables it is given write in it (see sql/context.ts's atomic). */
  transaction<T>(fn: (tx: StoreTables) => Promise<T>): Promise<T> {
    return atomic(this.sql, (ctx) => fn(tables(ctx)));
  }

  reclaimSpace(): Promise<number> {
    return this.backend.reclaimSpace();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sql.db.destroy();
    await this.backend.close();
  }
}
