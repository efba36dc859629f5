import type { Migration } from '../migrations.js';

/**
 * Schema of the tables the store module owns: repos, agents, events.
 * Core store migrations use versions 1–99 (see migrations.ts).
 */
export const CORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core: repos, agents, events',
    up: `
      CREATE TABLE repos (
        name        TEXT PRIMARY KEY,
        path        TEXT NOT NULL UNIQUE,
        base_branch TEXT NOT NULL,
        setup       TEXT,
        copy_files  TEXT NOT NULL DEFAULT '[]',
        created_at  INTEGER NOT NULL
      );

      -- No foreign key to repos: an agent record is history and outlives
      -- the registration of its repository.
      CREATE TABLE agents (
        id              TEXT PRIMARY KEY,
        state           TEXT NOT NULL
                        CHECK (state IN ('queued','spawning','running','completed','failed','killed')),
        task_id         TEXT NOT NULL,
        type            TEXT NOT NULL,
        repo            TEXT NOT NULL,
        branch          TEXT NOT NULL,
        base_branch     TEXT NOT NULL,
        worktree_path   TEXT NOT NULL,
        runtime         TEXT NOT NULL,
        prompt          TEXT NOT NULL,
        env             TEXT NOT NULL DEFAULT '{}',
        priority        INTEGER NOT NULL,
        timeout_s       INTEGER,
        origin          TEXT NOT NULL,
        idempotency_key TEXT,
        pid             INTEGER,
        pgid            INTEGER,
        port            INTEGER,
        exit_code       INTEGER,
        error           TEXT,
        result          TEXT,
        progress        TEXT,
        kill_requested  INTEGER NOT NULL DEFAULT 0 CHECK (kill_requested IN (0, 1)),
        created_at      INTEGER NOT NULL,
        started_at      INTEGER,
        ended_at        INTEGER,
        updated_at      INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX agents_idempotency ON agents (origin, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
      CREATE INDEX agents_state ON agents (state);
      CREATE INDEX agents_queue ON agents (state, priority DESC, created_at);
      CREATE INDEX agents_repo ON agents (repo);
      CREATE INDEX agents_task ON agents (task_id);

      -- AUTOINCREMENT: a seq is never reused, even after old events are
      -- deleted, so SSE clients resuming with Last-Event-ID never skip one.
      CREATE TABLE events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        type       TEXT NOT NULL,
        agent_id   TEXT NOT NULL,
        data       TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX events_agent ON events (agent_id, seq);
    `,
  },
  {
    version: 2,
    name: 'core: agents.landed',
    up: 'ALTER TABLE agents ADD COLUMN landed TEXT',
  },
  {
    // 20, not 3: other modules' columns are being added at the same time; versions only need to grow.
    version: 20,
    name: 'core: agents.retry_of',
    up: 'ALTER TABLE agents ADD COLUMN retry_of TEXT',
  },
  {
    // Warm pools (DESIGN §3): setupInputs NULL means the default lockfiles. 30: a block of its own.
    version: 30,
    name: 'core: repos.pool_size/share_dirs/setup_inputs, agents.pooled',
    up: `
      ALTER TABLE repos ADD COLUMN pool_size INTEGER NOT NULL DEFAULT 0 CHECK (pool_size >= 0);
      ALTER TABLE repos ADD COLUMN share_dirs TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE repos ADD COLUMN setup_inputs TEXT;
      ALTER TABLE agents ADD COLUMN pooled INTEGER NOT NULL DEFAULT 0 CHECK (pooled IN (0, 1));
    `,
  },
  {
    // Sandbox (DESIGN §3 "Runtimes and supervision"): the mechanism an agent ran in (NULL =
    // unsandboxed), the limits a peer's grant set on it, and each repository's network.
    // 40: above the versions other features took meanwhile; versions only need to grow.
    version: 40,
    name: 'core: agents.sandbox/limits, repos.network',
    up: `
      ALTER TABLE agents ADD COLUMN sandbox TEXT;
      ALTER TABLE agents ADD COLUMN limits TEXT;
      ALTER TABLE repos ADD COLUMN network TEXT NOT NULL DEFAULT 'host' CHECK (network IN ('host', 'none'));
    `,
  },
  {
    // Retention (issue 7): old events are pruned by age, which wants an index on their time.
    version: 50,
    name: 'core: events by creation time',
    up: `
      CREATE INDEX events_created ON events (created_at);
    `,
  },
  {
    // Follow-ups (issue 22): `reply` links the new agent to the one it continues. 64: a number of its own.
    version: 64,
    name: 'core: agents.follow_up_of',
    up: 'ALTER TABLE agents ADD COLUMN follow_up_of TEXT',
  },
  {
    // Issue 16: whether local agents' runtimes may load the configuration a repository carries.
    // 67: a number of its own (64 is follow-ups'); versions only need to grow.
    version: 67,
    name: 'core: repos.project_config',
    up: `
      ALTER TABLE repos ADD COLUMN project_config INTEGER NOT NULL DEFAULT 1 CHECK (project_config IN (0, 1));
    `,
  },
];
