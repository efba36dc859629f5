import type { SqliteDatabase } from '../sqlite/database.js';

/**
 * One step of the schema, in the form each backend needs: the SQL differs
 * (AUTOINCREMENT against identity columns, BLOB against bytea, a trigger's
 * body), the queries that use the tables do not (see ../sql/). A step is
 * applied entirely or not at all, together with the row that records it.
 *
 * Convention: the module that owns a table owns its migrations, in its own
 * file, and takes a block of versions so modules never collide: store core
 * 1–99 (./001-core.ts), federation 100–199; the next module takes 200–299.
 * Within a block versions only ever grow; a released migration is never
 * edited — schema changes are new migrations.
 *
 * Both forms keep the same tables, columns and column meanings (JSON as text,
 * booleans as 0/1, times as integer milliseconds), so one query layer reads
 * and writes both.
 */
export interface Migration {
  version: number;
  name: string;
  /** The SQLite form (SQL text, or a function for what SQL alone cannot do). */
  up: string | ((db: SqliteDatabase) => void);
  /** The PostgreSQL form (SQL text; may hold several statements). */
  postgres: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: number;
}
