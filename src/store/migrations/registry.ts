import { MosaicError } from '../../core/errors.js';
import { CORE_MIGRATIONS } from './001-core.js';
import type { AppliedMigration, Migration } from './migration.js';

const registry = new Map<number, Migration>();

/**
 * Adds migrations to the set every store opened afterwards applies. Modules
 * call it once at import (or pass `migrations` when opening a store). Throws
 * on a version already taken by a different migration: that is a programming
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
    } else if (taken.name !== m.name || taken.up !== m.up || taken.postgres !== m.postgres) {
      throw new Error(`migration version ${m.version} is taken by "${taken.name}", cannot register "${m.name}"`);
    }
  }
}

/** Every registered migration, by version. */
export function registeredMigrations(): Migration[] {
  return [...registry.values()].sort((a, b) => a.version - b.version);
}

registerMigrations(...CORE_MIGRATIONS);

/** The migrations to apply, by version; throws on two different migrations with one version. */
export function sortedMigrations(migrations: readonly Migration[]): Migration[] {
  const known = new Map(migrations.map((m) => [m.version, m]));
  if (known.size !== migrations.length) throw new Error('migrations contain a duplicate version');
  return [...migrations].sort((a, b) => a.version - b.version);
}

/**
 * Refuses a database that records a version this code does not know: it was
 * written by a newer Mosaic (or with a module this build lacks), and running
 * against it could silently corrupt data.
 */
export function checkCompatible(applied: readonly AppliedMigration[], migrations: readonly Migration[]): void {
  const known = new Map(migrations.map((m) => [m.version, m]));
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
