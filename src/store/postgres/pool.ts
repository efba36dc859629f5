import pg from 'pg';

/** Connections a store opens at most (MOSAIC_DATABASE_POOL). */
export const DEFAULT_POOL_SIZE = 10;
/** How long a query waits for a free connection of the pool (pg counts that wait in connectionTimeoutMillis). */
const POOL_WAIT_MS = 30_000;
/** How long the first connection may take before the database counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 5000;

/**
 * BIGINT (times in ms, seqs, counts) read as numbers: every value the store
 * keeps there is below 2^53, and the query layer reads both backends alike.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** The URL as it may be shown: the password replaced by `***` (never printed in doctor, status, errors or logs). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** `PostgreSQL <host>/<db>`, what `mosaic status` names the store. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `PostgreSQL ${parsed.host || 'localhost'}/${decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default)'}`;
  } catch {
    return 'PostgreSQL (unparsable URL)';
  }
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * A bounded pool. An idle connection the server drops (a restart, an outage)
 * is an 'error' event on the pool, which must be handled or it would end the
 * process: the pool forgets that connection and opens a new one when next
 * asked, so the store resumes by itself once the server is back. So does a
 * connection lost while in use.
 */
export function createPool(url: string, max: number = DEFAULT_POOL_SIZE, onIdleError?: (err: Error) => void): pg.Pool {
  // Commits wait for their WAL flush (the server's default synchronous_commit): a transition the store
  // acknowledged survives a crash of the database server, which users back up and replicate.
  const pool = new pg.Pool({ connectionString: url, max, types, connectionTimeoutMillis: POOL_WAIT_MS, idleTimeoutMillis: 30_000 });
  pool.on('error', (err) => onIdleError?.(err));
  // A connection lost while checked out (in a query, or between a transaction's statements) is also an 'error'
  // event on its client, which the pool only listens for while the client is idle: unhandled, it would end the
  // process. The query it was running fails with the error (503 store_unavailable), and the pool discards the
  // client when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
