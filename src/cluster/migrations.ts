import type { Migration } from '../store/index.js';

/**
 * Tables the cluster module owns: versions 400–499 (store core 1–99,
 * federation 100–199, A2A 300–399). A cluster runs on PostgreSQL only; the
 * SQLite form creates the same tables so one schema history serves both.
 */
export const CLUSTER_MIGRATIONS: readonly Migration[] = [
  {
    version: 400,
    name: 'cluster: nodes, the shared identity, admin token hashes',
    up: `
      CREATE TABLE cluster_nodes (
        name TEXT PRIMARY KEY, url TEXT NOT NULL, epoch INTEGER NOT NULL, capacity INTEGER NOT NULL,
        running INTEGER NOT NULL DEFAULT 0, draining INTEGER NOT NULL DEFAULT 0, lease_until INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL, lost_at INTEGER, version TEXT NOT NULL, capabilities TEXT NOT NULL DEFAULT '{}',
        joined_at INTEGER NOT NULL
      );
      CREATE TABLE cluster_identity (id INTEGER PRIMARY KEY CHECK (id = 1), sealed_key TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE cluster_admin_tokens (token_hash TEXT PRIMARY KEY, node TEXT NOT NULL, created_at INTEGER NOT NULL);
    `,
    postgres: `
      CREATE TABLE cluster_nodes (
        name TEXT PRIMARY KEY, url TEXT NOT NULL, epoch BIGINT NOT NULL, capacity INTEGER NOT NULL,
        running INTEGER NOT NULL DEFAULT 0, draining INTEGER NOT NULL DEFAULT 0, lease_until BIGINT NOT NULL,
        heartbeat_at BIGINT NOT NULL, lost_at BIGINT, version TEXT NOT NULL, capabilities TEXT NOT NULL DEFAULT '{}',
        joined_at BIGINT NOT NULL
      );
      CREATE TABLE cluster_identity (id INTEGER PRIMARY KEY CHECK (id = 1), sealed_key TEXT NOT NULL, created_at BIGINT NOT NULL);
      CREATE TABLE cluster_admin_tokens (token_hash TEXT PRIMARY KEY, node TEXT NOT NULL, created_at BIGINT NOT NULL);
    `,
  },
  {
    version: 401,
    name: 'cluster: events notify mosaic_events on commit',
    // SQLite has no cluster: nothing to do there.
    up: 'SELECT 1',
    // Every node LISTENs: an insert into events wakes every node's event streams at commit (see fanout.ts).
    postgres: `
      CREATE FUNCTION mosaic_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('mosaic_events', '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION mosaic_events_notify();
    `,
  },
];
