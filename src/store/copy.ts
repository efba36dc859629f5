import { existsSync } from 'node:fs';
import pg from 'pg';
import { MosaicError } from '../core/errors.js';
import type { Migration } from './migrations/migration.js';
import { createSchemaInTransaction, MIGRATION_LOCK_KEY } from './postgres/migrate.js';
import { CONNECT_TIMEOUT_MS, describeUrl, redactUrl } from './postgres/pool.js';
import { storeUnreachable } from './postgres/index.js';
import { sqliteHandle, openSqliteStore, type SqliteDatabase } from './sqlite/index.js';

export interface CopyOptions {
  /** The SQLite store to read ($MOSAIC_HOME/mosaic.db); it is migrated to the current schema first, as a start would. */
  sqliteFile: string;
  /** The PostgreSQL database to fill: it must hold no Mosaic tables. */
  url: string;
  /** Every migration the instance runs (core, federation, a2a, …): the schema both sides are brought to. */
  migrations: readonly Migration[];
  now?: () => number;
}

export interface CopyReport {
  from: string;
  to: string;
  tables: { table: string; rows: number }[];
  /** The event counter on the target: the last seq ever given (events keep their seqs). */
  lastEventSeq: number;
  schemaVersion: number;
}

/** PostgreSQL-only tables, filled from what SQLite keeps elsewhere. */
const EVENT_SEQUENCE = 'event_sequence';
const TRACKING = 'schema_migrations';
/** Bind parameters per INSERT stay well below PostgreSQL's 65,535. */
const PARAMS_PER_INSERT = 30_000;

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Copies a SQLite store into an empty PostgreSQL database, table by table,
 * in one transaction on the target (all of it or nothing): the schema is
 * created by the same migrations a start runs, then every table the schema
 * has is copied with all its columns — whatever tables the migrations make,
 * so a new table is never forgotten; a table on one side only is an error.
 * Values keep their identity: events their seqs (and the event counter goes
 * on from the source's last seq, pruned ones included), identity columns
 * (insertion order, message seqs) their numbers, their sequences set past
 * them. User triggers (the federation outbox's) do not fire: the copied
 * outbox is the source's, not one re-derived from copied events.
 *
 * Refuses (409 `database_not_empty`) a database that already holds a Mosaic
 * table; the caller makes sure no server runs on the source (the home lock).
 */
export async function copySqliteToPostgres(opts: CopyOptions): Promise<CopyReport> {
  if (!existsSync(opts.sqliteFile)) {
    throw new MosaicError(404, 'store_not_found', `no SQLite store at ${opts.sqliteFile}`, { file: opts.sqliteFile });
  }
  const client = new pg.Client({ connectionString: opts.url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw storeUnreachable(opts.url, err);
  }
  try {
    const source = openSqliteStore(opts.sqliteFile, { migrations: opts.migrations, ...(opts.now ? { now: opts.now } : {}) });
    try {
      return await copyInto(client, sqliteHandle(source), opts);
    } finally {
      await source.close();
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function copyInto(client: pg.Client, raw: SqliteDatabase, opts: CopyOptions): Promise<CopyReport> {
  const sourceTables = raw.prepare<[], { name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all()
    .map((r) => r.name).filter((name) => name !== TRACKING);
  await client.query('BEGIN');
  try {
    // Servers starting on the target meanwhile wait (they migrate under the same lock), then find the copy.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    const present = await targetTables(client);
    const mosaic = present.filter((t) => t === TRACKING || t === EVENT_SEQUENCE || sourceTables.includes(t));
    if (mosaic.length > 0) {
      throw new MosaicError(409, 'database_not_empty',
        `the database ${describeUrl(opts.url)} already holds Mosaic tables (${mosaic.join(', ')}); copy into a database without them`,
        { tables: mosaic });
    }
    await createSchemaInTransaction(client, opts.migrations, opts.now);
    const created = (await targetTables(client)).filter((t) => t !== TRACKING && !present.includes(t));
    const onlyTarget = created.filter((t) => t !== EVENT_SEQUENCE && !sourceTables.includes(t));
    const onlySource = sourceTables.filter((t) => !created.includes(t));
    if (onlyTarget.length > 0 || onlySource.length > 0) {
      throw new MosaicError(500, 'store_copy_mismatch',
        `the two schemas differ: only on PostgreSQL ${onlyTarget.join(', ') || '-'}; only on SQLite ${onlySource.join(', ') || '-'}`,
        { onlyTarget, onlySource });
    }
    for (const table of created) await client.query(`ALTER TABLE ${ident(table)} DISABLE TRIGGER USER`);
    const hasCounters = raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").get() !== undefined;
    const autoincrement = new Map(hasCounters
      ? raw.prepare<[], { name: string; seq: number }>('SELECT name, seq FROM sqlite_sequence').all().map((r) => [r.name, Number(r.seq)])
      : []);
    const tables: CopyReport['tables'] = [];
    for (const table of sourceTables) {
      tables.push({ table, rows: await copyTable(client, raw, table) });
      await advanceIdentities(client, table, autoincrement.get(table) ?? 0);
    }
    const maxSeq = Number((await client.query<{ m: number | null }>('SELECT max(seq) AS m FROM events')).rows[0]?.m ?? 0);
    const lastEventSeq = Math.max(maxSeq, autoincrement.get('events') ?? 0);
    await client.query(`UPDATE ${EVENT_SEQUENCE} SET last_seq = $1 WHERE id = 1`, [lastEventSeq]);
    for (const table of created) await client.query(`ALTER TABLE ${ident(table)} ENABLE TRIGGER USER`);
    const schemaVersion = Number((await client.query<{ v: number }>(`SELECT max(version) AS v FROM ${TRACKING}`)).rows[0]?.v ?? 0);
    await client.query('COMMIT');
    return { from: opts.sqliteFile, to: redactUrl(opts.url), tables, lastEventSeq, schemaVersion };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function targetTables(client: pg.Client): Promise<string[]> {
  const res = await client.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name");
  return res.rows.map((r) => r.table_name);
}

interface TargetColumn { column_name: string; is_identity: 'YES' | 'NO' }

async function targetColumns(client: pg.Client, table: string): Promise<TargetColumn[]> {
  return (await client.query<TargetColumn>(
    `SELECT column_name, is_identity FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, [table])).rows;
}

/**
 * Every row of `table`, all the target's columns. A `rowid` column that only
 * the PostgreSQL form declares is SQLite's implicit rowid (insertion order).
 */
async function copyTable(client: pg.Client, raw: SqliteDatabase, table: string): Promise<number> {
  const target = await targetColumns(client, table);
  const declared = new Set(raw.prepare<[], { name: string }>(`PRAGMA table_info(${ident(table)})`).all().map((c) => c.name));
  const columns = target.map((c) => c.column_name);
  const missing = columns.filter((c) => !declared.has(c) && c !== 'rowid');
  const extra = [...declared].filter((c) => !columns.includes(c));
  if (missing.length > 0 || extra.length > 0) {
    throw new MosaicError(500, 'store_copy_mismatch',
      `table ${table} differs: only on PostgreSQL ${missing.join(', ') || '-'}; only on SQLite ${extra.join(', ') || '-'}`,
      { table, onlyTarget: missing, onlySource: extra });
  }
  const overriding = target.some((c) => c.is_identity === 'YES') ? ' OVERRIDING SYSTEM VALUE' : '';
  const insertPrefix = `INSERT INTO ${ident(table)} (${columns.map(ident).join(', ')})${overriding} VALUES `;
  const perBatch = Math.max(1, Math.floor(PARAMS_PER_INSERT / columns.length));
  const select = raw.prepare(`SELECT ${columns.map(ident).join(', ')} FROM ${ident(table)}`).raw(true);
  let batch: unknown[][] = [];
  let rows = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const params: unknown[] = [];
    const tuples = batch.map((row) => `(${row.map((value) => { params.push(value); return `$${params.length}`; }).join(', ')})`);
    await client.query(insertPrefix + tuples.join(', '), params);
    rows += batch.length;
    batch = [];
  };
  for (const row of select.iterate() as IterableIterator<unknown[]>) {
    batch.push(row);
    if (batch.length >= perBatch) await flush();
  }
  await flush();
  return rows;
}

/** Identity sequences go on after the copied values (and after SQLite's AUTOINCREMENT counter, whose numbers are never reused). */
async function advanceIdentities(client: pg.Client, table: string, autoincrement: number): Promise<void> {
  for (const { column_name: column } of (await targetColumns(client, table)).filter((c) => c.is_identity === 'YES')) {
    const max = Number((await client.query<{ m: number | null }>(`SELECT max(${ident(column)}) AS m FROM ${ident(table)}`)).rows[0]?.m ?? 0);
    const last = Math.max(max, autoincrement);
    // setval(…, 1, false): the next value is 1 (an empty table).
    await client.query('SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)', [ident(table), column, Math.max(last, 1), last > 0]);
  }
}
