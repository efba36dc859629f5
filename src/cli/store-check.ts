import pg from 'pg';
import { instanceMigrations } from '../instance/migrations.js';
import { CONNECT_TIMEOUT_MS, describeUrl, redactUrl } from '../store/postgres/pool.js';
import { messageOf } from './client.js';

export interface StoreCheck {
  name: 'store';
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

/** The newest schema version this build knows (every module's migrations, as the server runs them). */
function knownVersion(): number {
  return Math.max(...instanceMigrations().map((m) => m.version));
}

/**
 * doctor's check of a PostgreSQL store: reachable, migrated (and to which
 * version), the server's version. Never prints the URL's password. Only
 * reads: doctor runs beside a live server.
 */
export async function checkPostgresStore(url: string): Promise<StoreCheck> {
  const where = describeUrl(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    return { name: 'store', status: 'fail', detail: `cannot reach the database at ${redactUrl(url)}: ${messageOf(err)}` };
  }
  try {
    const server = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?';
    const tracked = await client.query<{ present: string | null }>("SELECT to_regclass('schema_migrations')::text AS present");
    if (tracked.rows[0]?.present === null) {
      return { name: 'store', status: 'ok', detail: `${where} (PostgreSQL ${server}): no Mosaic tables yet, created at first start` };
    }
    const version = Number((await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0);
    const known = knownVersion();
    if (version > known) {
      return { name: 'store', status: 'fail', detail: `${where} (PostgreSQL ${server}): schema version ${version} is newer than this Mosaic knows (${known}); upgrade Mosaic` };
    }
    const behind = version < known ? `; migrated to ${known} at next start` : '';
    return { name: 'store', status: 'ok', detail: `${where} (PostgreSQL ${server}, schema version ${version}${behind})` };
  } catch (err) {
    return { name: 'store', status: 'fail', detail: `${where}: ${messageOf(err)}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}
