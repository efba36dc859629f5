import type { DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, QueryCompiler, QueryResult } from 'kysely';
import { CompiledQuery, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type Kysely } from '../kysely.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';

/** Distinct statements kept prepared; the query layer builds far fewer. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely's SQLite dialect over one better-sqlite3 connection, with two
 * differences from Kysely's own SqliteDialect: transactions begin IMMEDIATE
 * (the write lock is taken at BEGIN, so the read-then-write of a transition
 * cannot be overtaken by another process sharing the file, and a busy
 * database waits busy_timeout at BEGIN rather than failing at the first
 * write), and statements are prepared once and reused (Kysely's prepares at
 * every query, which costs more than running most of ours).
 */
export class ImmediateSqliteDialect implements Dialect {
  constructor(private readonly database: SqliteDatabase) {}

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createDriver(): Driver {
    return new ImmediateSqliteDriver(this.database);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

class ImmediateSqliteDriver implements Driver {
  private readonly connection: CachingConnection;
  /** The one connection is lent to one query or transaction at a time. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly database: SqliteDatabase) {
    this.connection = new CachingConnection(database);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void;
    const previous = this.queue;
    this.queue = new Promise<void>((resolve) => { release = resolve; });
    await previous;
    this.connection.release = release;
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // A failed COMMIT or a constraint error may already have ended the transaction.
    if (this.database.inTransaction) await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.connection.release;
    this.connection.release = undefined;
    release?.();
  }

  async destroy(): Promise<void> {
    if (this.database.open) this.database.close();
  }
}

class CachingConnection implements DatabaseConnection {
  release: (() => void) | undefined;
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly database: SqliteDatabase) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.prepare(compiled.sql);
    const parameters = compiled.parameters as unknown[];
    if (stmt.reader) return { rows: stmt.all(...parameters) as R[] };
    const { changes, lastInsertRowid } = stmt.run(...parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  // eslint-disable-next-line require-yield -- streaming is not used by the store
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported by the SQLite store');
  }

  private prepare(sqlText: string): Statement {
    let stmt = this.statements.get(sqlText);
    if (stmt === undefined) {
      stmt = this.database.prepare(sqlText);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.clear();
      this.statements.set(sqlText, stmt);
    }
    return stmt;
  }
}
