import type { Kysely } from 'kysely';
import { atomic, type SqlContext, type SqlStore } from '../../store/index.js';
import { SqlConnectionStore } from './connections.js';
import { SqlInviteStore } from './invites.js';
import { SqlMessageStore } from './messages.js';
import { SqlMirrorStore } from './mirror.js';
import { SqlOutboxStore } from './outbox.js';
import { SqlRequestStore } from './requests.js';
import type { FederationTables } from './schema.js';
import { SqlSeenStore } from './seen.js';

export * from './types.js';
export type { FederationTables } from './schema.js';
export { FEDERATION_MIGRATIONS } from './migrations.js';
export { isNewer, type EventApply, type MirrorWrite } from './mirror.js';
export { DEFAULT_MESSAGES_LIMIT, MAX_MESSAGES_LIMIT, type MessageOutcome, type MessageStart } from './messages.js';
export { SqlConnectionStore, SqlRequestStore, SqlInviteStore, SqlMessageStore, SqlMirrorStore, SqlOutboxStore, SqlSeenStore };

/** The federation's tables, as the store or a transaction sees them. */
export interface FederationTablesApi {
  readonly connections: SqlConnectionStore;
  readonly invites: SqlInviteStore;
  readonly messages: SqlMessageStore;
  readonly seen: SqlSeenStore;
  readonly outbox: SqlOutboxStore;
  readonly mirror: SqlMirrorStore;
  readonly requests: SqlRequestStore;
}

/**
 * The federation tables, one class each, on the core store's executor (so
 * they share its transactions and its backend). Async like the core store:
 * on PostgreSQL every lookup is a round trip. The operations that must be
 * atomic (using an invite, applying an event together with its log entry)
 * are single transactions, or run in `transaction`.
 */
export interface FederationStore extends FederationTablesApi {
  /** Runs `fn` in one transaction; only the tables it is given write in it. */
  transaction<T>(fn: (tx: FederationTablesApi) => Promise<T>): Promise<T>;
}

function tables(ctx: SqlContext<FederationTables>): FederationTablesApi {
  return {
    connections: new SqlConnectionStore(ctx),
    invites: new SqlInviteStore(ctx),
    messages: new SqlMessageStore(ctx),
    seen: new SqlSeenStore(ctx),
    outbox: new SqlOutboxStore(ctx),
    mirror: new SqlMirrorStore(ctx),
    requests: new SqlRequestStore(ctx),
  };
}

/** Builds the federation tables on the core store's executor. */
export function openFederationStore(store: SqlStore): FederationStore {
  // The same executor, typed with the federation's tables besides the core's (their migrations ran with the core's).
  const ctx: SqlContext<FederationTables> = { ...store.sql, db: store.sql.db as unknown as Kysely<FederationTables> };
  return { ...tables(ctx), transaction: (fn) => atomic(ctx, (tx) => fn(tables(tx))) };
}
