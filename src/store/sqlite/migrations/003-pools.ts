import type { Migration } from '../migrations.js';

/**
 * Warm pools (DESIGN §3 "Warm pools"): per repository `poolSize`,
 * `shareDirs` and `setupInputs` (NULL = the default lockfiles), and on each
 * agent whether its worktree came from the pool.
 */
export const POOL_MIGRATIONS: readonly Migration[] = [
  {
    version: 3,
    name: 'pools: repos.pool_size/share_dirs/setup_inputs, agents.pooled',
    up: `
      ALTER TABLE repos ADD COLUMN pool_size INTEGER NOT NULL DEFAULT 0 CHECK (pool_size >= 0);
      ALTER TABLE repos ADD COLUMN share_dirs TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE repos ADD COLUMN setup_inputs TEXT;
      ALTER TABLE agents ADD COLUMN pooled INTEGER NOT NULL DEFAULT 0 CHECK (pooled IN (0, 1));
    `,
  },
];
