import { MosaicError } from '../../core/errors.js';
import type { SqliteDatabase } from './database.js';
import { CORE_MIGRATIONS } from './migrations/001-core.js';

/**
 * One step of the schema. `up` runs inside a transaction together with the
 * row that records it, so a migration is applied entirely or not at all.
 *
 * Convention: the module that owns a table owns its migrations, in its own
 * file (`migrations/001-core.ts` here), and takes a block of versions so
 * modules never collide: store core 1–99, federation 100–199 (connections,
 * invites, messages, outbox, seen message ids, remote agent mirrors); the next
 * module takes 200–299. Within a block versions only ever grow; a released
 * migration is never edited — schema changes are new migrations.
 */
export interface Migration {
  version: number;
  name: string;
  up: string | ((db: SqliteDatabase) => void);
}

const registry = new Map<number, Migration>();

/**
 * Adds migrations to the set every store opened afterwards applies. Modules
 * call it once at import (or pass `migrations` to openSqliteStore). Throws on
 * a version already taken by a different migration: that is a programming
 * error that must surface at start, not corrupt a database.
 */
export function registerMigrations(...migrations: readonly Migration[]): void {
  for (const m of migrations) {
    if (!Number.isSafeInteger(m.version) || m.version < 1) {
      throw new Error(`migration version must be a positive integer, got ${m.version}`);
    }
    if (m.name.trim() === '') throw new Error(`migration ${m.version} has no name`);
    const taken = registry.get(m.version);
    if (taken === undefined) {
      registry.set(m.version, m);
    } else if (taken.name !== m.name || taken.up !== m.up) {
      throw new Error(`migration version ${m.version} is taken by "${taken.name}", cannot register "${m.name}"`);
    }
  }
}

/** Every registered migration, by version. */
export function registeredMigrations(): Migration[] {
  return [...registry.values()].sort((a, b) => a.version - b.version);
}

registerMigrations(...CORE_MIGRATIONS);

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: number;
}

const CREATE_TRACKING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  applied_at INTEGER NOT NULL
)`;

export function appliedMigrations(db: SqliteDatabase): AppliedMigration[] {
  db.exec(CREATE_TRACKING);
  return db
    .prepare<[], AppliedMigration>('SELECT version, name, applied_at AS appliedAt FROM schema_migrations ORDER BY version')
    .all();
}

/**
 * Applies, in version order, every migration not yet recorded in
 * `schema_migrations`, each in its own IMMEDIATE transaction (which re-checks
 * it, so processes opening the same file at once apply it exactly once).
 * Refuses a database that records a version this code does not know: it was
 * written by a newer Mosaic (or with a module this build lacks), and running
 * against it could silently corrupt data. Returns the migrations it applied.
 */
export function runMigrations(
  db: SqliteDatabase,
  migrations: readonly Migration[] = registeredMigrations(),
  now: () => number = Date.now,
): Migration[] {
  const known = new Map(migrations.map((m) => [m.version, m]));
  if (known.size !== migrations.length) throw new Error('migrations contain a duplicate version');
  checkCompatible(appliedMigrations(db), known);

  const isApplied = db.prepare<[number], { version: number }>('SELECT version FROM schema_migrations WHERE version = ?');
  const record = db.prepare<[number, string, number]>('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applyOne = db.transaction((m: Migration): boolean => {
    if (isApplied.get(m.version) !== undefined) return false;
    if (typeof m.up === 'string') db.exec(m.up);
    else m.up(db);
    record.run(m.version, m.name, now());
    return true;
  });

  const applied: Migration[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applyOne.immediate(m)) applied.push(m);
  }
  return applied;
}

function checkCompatible(applied: readonly AppliedMigration[], known: ReadonlyMap<number, Migration>): void {
  const unknown = applied.filter((a) => !known.has(a.version));
  if (unknown.length > 0) {
    const knownMax = Math.max(0, ...known.keys());
    throw new MosaicError(500, 'store_too_new',
      `the database has schema versions this Mosaic does not know (${unknown.map((a) => a.version).join(', ')}; ` +
      `known up to ${knownMax}); upgrade Mosaic to open it`,
      { unknownVersions: unknown.map((a) => a.version), knownVersion: knownMax });
  }
  for (const a of applied) {
    const m = known.get(a.version);
    if (m !== undefined && m.name !== a.name) {
      throw new MosaicError(500, 'store_schema_mismatch',
        `schema version ${a.version} in the database is "${a.name}" but this Mosaic knows it as "${m.name}"`,
        { version: a.version });
    }
  }
}
