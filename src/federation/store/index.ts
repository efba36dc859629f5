import type { SqliteStore } from '../../store/index.js';
import { SqliteConnectionStore } from './connections.js';
import { SqliteInviteStore } from './invites.js';
import { SqliteMessageStore } from './messages.js';
import { SqliteMirrorStore } from './mirror.js';
import { SqliteOutboxStore } from './outbox.js';
import { SqliteRequestStore } from './requests.js';
import { SqliteSeenStore } from './seen.js';

export * from './types.js';
export { FEDERATION_MIGRATIONS } from './migrations.js';
export { isNewer, type EventApply, type MirrorWrite } from './mirror.js';
export { DEFAULT_MESSAGES_LIMIT, MAX_MESSAGES_LIMIT, type MessageOutcome, type MessageStart } from './messages.js';
export { SqliteConnectionStore, SqliteRequestStore, SqliteInviteStore, SqliteMessageStore, SqliteMirrorStore, SqliteOutboxStore, SqliteSeenStore };

/**
 * The federation tables, one class each. Unlike the core Store these are
 * synchronous: the receiver's check pipeline looks peers up synchronously,
 * and the operations that must be atomic (using an invite, applying an
 * event together with its log entry) are single transactions here.
 */
export interface FederationStore {
  readonly connections: SqliteConnectionStore;
  readonly invites: SqliteInviteStore;
  readonly messages: SqliteMessageStore;
  readonly seen: SqliteSeenStore;
  readonly outbox: SqliteOutboxStore;
  readonly mirror: SqliteMirrorStore;
  readonly requests: SqliteRequestStore;
  /** Runs `fn` in one IMMEDIATE transaction (a savepoint when nested). */
  transaction<T>(fn: () => T): T;
}

/** Builds the federation tables on the core store's connection, so they share its transactions. */
export function openFederationStore(store: SqliteStore): FederationStore {
  const { db, now } = store;
  return {
    connections: new SqliteConnectionStore(db, now),
    invites: new SqliteInviteStore(db),
    messages: new SqliteMessageStore(db, now),
    seen: new SqliteSeenStore(db, now),
    outbox: new SqliteOutboxStore(db),
    mirror: new SqliteMirrorStore(db, store.events, now),
    requests: new SqliteRequestStore(db),
    transaction: (fn) => store.transaction(fn),
  };
}
