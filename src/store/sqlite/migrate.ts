import type { AppliedMigration, Migration } from '../migrations/migration.js';
import { checkCompatible, registeredMigrations, sortedMigrations } from '../migrations/registry.js';
import type { SqliteDatabase } from './database.js';

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
 * `schema_migrations` (their SQLite form), each in its own IMMEDIATE
 * transaction (which re-checks it, so processes opening the same file at
 * once apply it exactly once). Refuses a database written by a newer schema
 * (see registry.ts). Returns the migrations it applied.
 */
export function runSqliteMigrations(
  db: SqliteDatabase,
  migrations: readonly Migration[] = registeredMigrations(),
  now: () => number = Date.now,
): Migration[] {
  const ordered = sortedMigrations(migrations);
  checkCompatible(appliedMigrations(db), ordered);

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
  for (const m of ordered) {
    if (applyOne.immediate(m)) applied.push(m);
  }
  return applied;
}
