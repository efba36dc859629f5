export type { QueuedAgent, QueueSkip, AgentFilter, AgentPatch, AgentStore, EventStore, RepoRecord, RepoStore, Store, StoreTables } from './types.js';
export type { AppliedMigration, Migration } from './migrations/migration.js';
export { registerMigrations, registeredMigrations } from './migrations/registry.js';
export { CORE_MIGRATIONS } from './migrations/001-core.js';
export { SqlStore, type Backend } from './sql/store.js';
export { atomic, isUniqueViolation, narrowed, type Dialect, type SqlContext } from './sql/context.js';
export type { CoreTables } from './sql/schema.js';
export { AGENT_STATE_EVENT, SqlAgentStore, type InsertResult } from './sql/agents.js';
export { DEFAULT_EVENTS_LIMIT, SqlEventStore } from './sql/events.js';
export { SqlRepoStore } from './sql/repos.js';
export { openSqliteStore, sqliteHandle, SqliteBackend, type SqliteStoreOptions } from './sqlite/index.js';
export { acquireOwnerLock, openPostgresStore, PostgresBackend, storeUnreachable, type OwnerLock, type PostgresStoreOptions } from './postgres/index.js';
export { openStore, type StoreTarget } from './open.js';

