export type { AgentFilter, AgentPatch, AgentStore, EventStore, RepoRecord, RepoStore, Store } from './types.js';
export {
  openSqliteStore,
  registerMigrations,
  SqliteStore,
  type Migration,
  type SqliteStoreOptions,
} from './sqlite/index.js';
