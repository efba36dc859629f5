import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isMosaicError } from '../../core/errors.js';
import { appliedMigrations, openSqliteStore, sqliteHandle } from './index.js';
import { CORE_MIGRATIONS } from '../migrations/001-core.js';
import type { Migration } from '../migrations/migration.js';
import { registeredMigrations, registerMigrations } from '../migrations/registry.js';
import { tempDir } from '../../test-support/store-records.js';

const CORE_VERSIONS = CORE_MIGRATIONS.map((m) => m.version);

const tables = (file: string): string[] => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r.name);
  } finally {
    db.close();
  }
};

describe('SQLite migrations', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  const dbFile = (): string => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    return join(dir, 'mosaic.db');
  };

  it('applies the core schema once and leaves it alone on reopen', async () => {
    const file = dbFile();
    let t = 1000;
    const first = openSqliteStore(file, { now: () => t });
    const applied = appliedMigrations(sqliteHandle(first));
    expect(applied).toEqual(CORE_MIGRATIONS.map((m) => ({ version: m.version, name: m.name, appliedAt: 1000 })));
    await first.close();
    expect(tables(file)).toEqual(expect.arrayContaining(['agents', 'events', 'repos', 'schema_migrations']));

    t = 2000;
    const second = openSqliteStore(file, { now: () => t });
    // Same rows, same timestamps: nothing ran again (a re-run would also fail on CREATE TABLE).
    expect(appliedMigrations(sqliteHandle(second))).toEqual(applied);
    await second.close();
  });

  it('applies migrations added later, in version order, each exactly once', async () => {
    const file = dbFile();
    await openSqliteStore(file).close();
    const order: number[] = [];
    const extra: Migration[] = [
      { version: 101, name: 'fed: b', up: (db) => { order.push(101); db.exec('CREATE TABLE fed_b (x TEXT)'); }, postgres: '' },
      { version: 100, name: 'fed: a', up: 'CREATE TABLE fed_a (x TEXT)', postgres: '' },
    ];
    const store = openSqliteStore(file, { migrations: [...CORE_MIGRATIONS, ...extra] });
    expect(appliedMigrations(sqliteHandle(store)).map((m) => m.version)).toEqual([...CORE_VERSIONS, 100, 101]);
    await store.close();
    await openSqliteStore(file, { migrations: [...CORE_MIGRATIONS, ...extra] }).close();
    expect(order).toEqual([101]);
    expect(tables(file)).toEqual(expect.arrayContaining(['fed_a', 'fed_b']));
  });

  it('rolls a failing migration back entirely and does not record it', async () => {
    const file = dbFile();
    const broken: Migration = { version: 98, name: 'broken', up: 'CREATE TABLE half (x TEXT); INSERT INTO nope VALUES (1);', postgres: '' };
    expect(() => openSqliteStore(file, { migrations: [...CORE_MIGRATIONS, broken] })).toThrow(/nope/);
    expect(tables(file)).not.toContain('half');
    const store = openSqliteStore(file);
    expect(appliedMigrations(sqliteHandle(store)).map((m) => m.version)).toEqual(CORE_VERSIONS);
    await store.close();
  });

  it('refuses a database whose schema is newer than the code', async () => {
    const file = dbFile();
    await openSqliteStore(file).close();
    const raw = new Database(file);
    raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(99, 'from the future', 1);
    raw.close();

    let caught: unknown;
    try {
      openSqliteStore(file);
    } catch (err) {
      caught = err;
    }
    expect(isMosaicError(caught)).toBe(true);
    expect(caught).toMatchObject({ status: 500, code: 'store_too_new', details: { unknownVersions: [99], knownVersion: Math.max(...CORE_VERSIONS) } });
    // Also refused when a module that wrote tables is missing from this build.
    const withFed = [...CORE_MIGRATIONS, { version: 100, name: 'fed', up: 'CREATE TABLE fed (x TEXT)', postgres: '' }];
    const file2 = dbFile();
    await openSqliteStore(file2, { migrations: withFed }).close();
    expect(() => openSqliteStore(file2)).toThrow(expect.objectContaining({ code: 'store_too_new' }));
  });

  it('refuses a version recorded under a different name', async () => {
    const file = dbFile();
    await openSqliteStore(file, { migrations: [...CORE_MIGRATIONS, { version: 5, name: 'one thing', up: '', postgres: '' }] }).close();
    expect(() => openSqliteStore(file, { migrations: [...CORE_MIGRATIONS, { version: 5, name: 'another', up: '', postgres: '' }] }))
      .toThrow(expect.objectContaining({ code: 'store_schema_mismatch' }));
  });

  it('registers migrations globally and rejects a taken version', () => {
    expect(registeredMigrations().map((m) => m.version)).toContain(1);
    // Registering the very same migration again is harmless.
    registerMigrations(...CORE_MIGRATIONS);
    expect(registeredMigrations().filter((m) => m.version === 1)).toHaveLength(1);
    expect(() => registerMigrations({ version: 1, name: 'impostor', up: '', postgres: '' })).toThrow(/taken/);
    expect(() => registerMigrations({ version: 0, name: 'zero', up: '', postgres: '' })).toThrow(/positive/);
  });
});
