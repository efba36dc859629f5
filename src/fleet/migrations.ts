import type { Migration } from '../store/index.js';

/** Tables fleet governance owns: versions 500–599 (store core 1–99, federation 100–199, A2A 300s, cluster 400s). */
export const FLEET_MIGRATIONS: readonly Migration[] = [
  {
    version: 500,
    name: 'fleet: budgets, spend ledger, runtime rate limits',
    // fleet_spend keeps each agent's latest known cost apart from the agents table, so spend survives a discard and a restart.
    up: `
      CREATE TABLE fleet_budgets (
        scope        TEXT PRIMARY KEY,
        usd          REAL NOT NULL,
        per          TEXT NOT NULL CHECK (per IN ('day', 'week', 'month')),
        on_exhausted TEXT NOT NULL CHECK (on_exhausted IN ('queue', 'kill')),
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
      );
      CREATE TABLE fleet_spend (
        agent_id   TEXT PRIMARY KEY,
        repo       TEXT NOT NULL,
        origin     TEXT NOT NULL,
        runtime    TEXT NOT NULL,
        cost_usd   REAL NOT NULL,
        input_tokens        INTEGER NOT NULL DEFAULT 0,
        output_tokens       INTEGER NOT NULL DEFAULT 0,
        cached_input_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens    INTEGER NOT NULL DEFAULT 0,
        at         INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX fleet_spend_at ON fleet_spend (at);
      CREATE TABLE fleet_limits (
        runtime    TEXT PRIMARY KEY,
        state      TEXT NOT NULL CHECK (state IN ('paused', 'warning')),
        resets_at  INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
    postgres: `
      CREATE TABLE fleet_budgets (
        scope        TEXT PRIMARY KEY,
        usd          DOUBLE PRECISION NOT NULL,
        per          TEXT NOT NULL CHECK (per IN ('day', 'week', 'month')),
        on_exhausted TEXT NOT NULL CHECK (on_exhausted IN ('queue', 'kill')),
        created_at   BIGINT NOT NULL,
        updated_at   BIGINT NOT NULL
      );
      CREATE TABLE fleet_spend (
        agent_id   TEXT PRIMARY KEY,
        repo       TEXT NOT NULL,
        origin     TEXT NOT NULL,
        runtime    TEXT NOT NULL,
        cost_usd   DOUBLE PRECISION NOT NULL,
        input_tokens        BIGINT NOT NULL DEFAULT 0,
        output_tokens       BIGINT NOT NULL DEFAULT 0,
        cached_input_tokens BIGINT NOT NULL DEFAULT 0,
        reasoning_tokens    BIGINT NOT NULL DEFAULT 0,
        at         BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX fleet_spend_at ON fleet_spend (at);
      CREATE TABLE fleet_limits (
        runtime    TEXT PRIMARY KEY,
        state      TEXT NOT NULL CHECK (state IN ('paused', 'warning')),
        resets_at  BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
    `,
  },
];
