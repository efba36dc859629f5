import type pg from 'pg';
import type { AppliedMigration, Migration } from '../migrations/migration.js';
import { checkCompatible, registeredMigrations, sortedMigrations } from '../migrations/registry.js';

/** The advisory lock key under which migrations run ('mosaic' + 'migr' as bytes: any constant not used elsewhere). */
export const MIGRATION_LOCK_KEY = 0x6d6f7361_6d696772n;

const CREATE_TRACKING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

export async function appliedPostgresMigrations(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const res = await client.query<{ version: number; name: string; applied_at: string | number }>(
    "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
  return res.rows.map((r) => ({ version: r.version, name: r.name, appliedAt: Number(r.applied_at) }));
}

/**
 * Creates the whole schema on an empty database inside the caller's open
 * transaction (which should hold MIGRATION_LOCK_KEY as an xact lock): every
 * migration's PostgreSQL form and its schema_migrations row. For `db copy`,
 * whose schema and data commit together or not at all.
 */
export async function createSchemaInTransaction(client: pg.ClientBase, migrations: readonly Migration[], now: () => number = Date.now): Promise<void> {
  await client.query(CREATE_TRACKING);
  for (const m of sortedMigrations(migrations)) {
    try {
      await client.query(m.postgres);
    } catch (err) {
      throw new Error(`migration ${m.version} (${m.name}) failed on PostgreSQL: ${(err as Error).message}`, { cause: err });
    }
    await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now()]);
  }
}

/**
 * Applies every migration not yet recorded (their PostgreSQL form), each in
 * its own transaction, under a session advisory lock: processes starting at
 * once on one database wait for each other, and the later ones find
 * everything applied. Refuses a database written by a newer schema.
 */
export async function runPostgresMigrations(
  pool: pg.Pool,
  migrations: readonly Migration[] = registeredMigrations(),
  now: () => number = Date.now,
): Promise<Migration[]> {
  const ordered = sortedMigrations(migrations);
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(CREATE_TRACKING);
      checkCompatible(await appliedPostgresMigrations(client), ordered);
      const done = new Set((await appliedPostgresMigrations(client)).map((m) => m.version));
      const applied: Migration[] = [];
      for (const m of ordered) {
        if (done.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.postgres);
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`migration ${m.version} (${m.name}) failed on PostgreSQL: ${(err as Error).message}`, { cause: err });
        }
        applied.push(m);
      }
      return applied;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]).catch(() => { broken = true; });
    }
  } finally {
    client.release(broken);
  }
}
