import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Where the tests' PostgreSQL is: a role that may create databases (see
 * README "Running on PostgreSQL" and .ci/run). Each test file makes its own
 * database and drops it after.
 */
export const TEST_DATABASE_URL = process.env.MOSAIC_TEST_DATABASE_URL ?? 'postgres://mosaic_test:mosaic_test@127.0.0.1:5432/postgres';

export function databaseUrl(server: string, database: string): string {
  const url = new URL(server);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(server: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`the tests need PostgreSQL at ${new URL(server).host} (MOSAIC_TEST_DATABASE_URL; see README "Running on PostgreSQL"): ${(err as Error).message}`);
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  /** Empties it (every table, function and sequence), as a new database. */
  reset(): Promise<void>;
  drop(): Promise<void>;
}

/** A new, empty database on the test server; `drop()` removes it, even with connections still open. */
export async function createTestDatabase(server: string = TEST_DATABASE_URL): Promise<TestDatabase> {
  const name = `mosaic_test_${randomBytes(6).toString('hex')}`;
  await admin(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(server, name);
  return {
    url,
    reset: () => admin(url, async (c) => {
      await c.query('DROP SCHEMA public CASCADE');
      await c.query('CREATE SCHEMA public');
    }),
    drop: () => admin(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
