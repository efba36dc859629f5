import type { Migration } from '../../store/index.js';

/** Tables the A2A module owns: versions 300–399 (store core 1–99, federation 100–199). */
export const A2A_MIGRATIONS: readonly Migration[] = [
  {
    version: 300,
    name: 'a2a: client tokens (hashed) with their grants',
    // Only the hash of a token is kept: a leaked database leaks no usable token.
    up: `
      CREATE TABLE a2a_tokens (
        id           TEXT PRIMARY KEY,
        token_hash   TEXT NOT NULL UNIQUE,
        grants       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at   INTEGER
      );
    `,
    postgres: `
      CREATE TABLE a2a_tokens (
        id           TEXT PRIMARY KEY,
        token_hash   TEXT NOT NULL UNIQUE,
        grants       TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        last_used_at BIGINT,
        revoked_at   BIGINT
      );
    `,
  },
];
