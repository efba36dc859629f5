import type { Kysely } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/**
 * What a table class is built on: an executor (the store's Kysely, or an open
 * transaction of it), the backend (for the few places the SQL must differ,
 * such as row locks) and the clock.
 */
export interface SqlContext<DB> {
  readonly db: Kysely<DB>;
  readonly dialect: Dialect;
  readonly now: () => number;
}

/**
 * Runs `fn` atomically: in the executor's transaction when it is one,
 * otherwise in a new one (IMMEDIATE on SQLite: see ../sqlite/dialect.ts).
 * Inside, use only the executor `fn` is given: on SQLite the store's one
 * connection is held by the transaction, so a query through the outer
 * executor would wait for it forever.
 */
export function atomic<DB, T>(ctx: SqlContext<DB>, fn: (tx: SqlContext<DB>) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return fn(ctx);
  return ctx.db.transaction().execute((trx) => fn({ db: trx, dialect: ctx.dialect, now: ctx.now }));
}

/**
 * Whether `err` is a unique-constraint violation, on either backend, of the
 * constraint or column named by `target` when given (SQLite names the
 * columns in its message, PostgreSQL the constraint).
 */
export function isUniqueViolation(err: unknown, target?: { sqliteColumn?: string; pgConstraint?: string; primaryKey?: boolean }): boolean {
  const e = err as { code?: unknown; message?: unknown; constraint?: unknown };
  if (e.code === '23505') {
    if (target?.pgConstraint === undefined) return true;
    return e.constraint === target.pgConstraint;
  }
  if (e.code !== 'SQLITE_CONSTRAINT_UNIQUE' && e.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
  if (target?.primaryKey === true) return e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  if (target?.sqliteColumn === undefined) return true;
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' && String(e.message).includes(target.sqliteColumn);
}

/**
 * The same executor seen with fewer tables (a module's tables extend the
 * core's): Kysely's type is not covariant in its tables, the value is the same.
 */
export function narrowed<Narrow, Wide extends Narrow>(ctx: SqlContext<Wide>): SqlContext<Narrow> {
  return ctx as unknown as SqlContext<Narrow>;
}
