import type { Generated, Kysely } from 'kysely';

/**
 * The core tables as the query layer sees them, on either backend. JSON is
 * text, booleans are 0/1, times are integer milliseconds (PostgreSQL's
 * BIGINT is read back as a number: see ../postgres/pool.ts).
 */
export interface ReposTable {
  name: string;
  path: string;
  base_branch: string;
  setup: string | null;
  copy_files: string;
  pool_size: number;
  share_dirs: string;
  setup_inputs: string | null;
  network: string;
  project_config: number;
  /** Issue 21: a spawn in it retries on another node when its node is lost, unless the spawn says otherwise. */
  retry_on_node_lost: number;
  /** Issue 21: the git URL a repository is shared by (null: a local path). */
  url: string | null;
  created_at: number;
}

/** Columns are written from agent-row.ts's single field map. */
export interface AgentsTable {
  /** Insertion order: SQLite's implicit rowid, an identity column on PostgreSQL. */
  rowid: Generated<number>;
  id: string;
  state: string;
  task_id: string;
  type: string;
  repo: string;
  branch: string;
  base_branch: string;
  worktree_path: string;
  pooled: number;
  runtime: string;
  prompt: string;
  env: string;
  priority: number;
  timeout_s: number | null;
  budget_usd: number | null;
  waiting_for: string | null;
  origin: string;
  idempotency_key: string | null;
  pid: number | null;
  pgid: number | null;
  port: number | null;
  exit_code: number | null;
  error: string | null;
  result: string | null;
  progress: string | null;
  kill_requested: number;
  landed: string | null;
  retry_of: string | null;
  follow_up_of: string | null;
  sandbox: string | null;
  timings: string | null;
  limits: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  updated_at: number;
  /** Cluster (migration 75): the node running it, the lease epoch it took it under, retry when that node is lost. */
  node: string | null;
  node_epoch: number | null;
  retry_on_node_lost: number;
}

export interface EventsTable {
  /** AUTOINCREMENT on SQLite; given from event_sequence on PostgreSQL. */
  seq: Generated<number>;
  type: string;
  agent_id: string;
  data: string;
  created_at: number;
}

/** PostgreSQL only: the last event seq given (see migrations/001-core.ts). */
export interface EventSequenceTable {
  id: number;
  last_seq: number;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: number;
}

export interface CoreTables {
  repos: ReposTable;
  agents: AgentsTable;
  events: EventsTable;
  event_sequence: EventSequenceTable;
  schema_migrations: SchemaMigrationsTable;
}

export type CoreDb = Kysely<CoreTables>;
