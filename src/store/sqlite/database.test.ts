import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { tempDir } from '../../test-support/store-records.js';

describe('openDatabase', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('creates the file 0600 with WAL, busy timeout, foreign keys and NORMAL sync', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'mosaic.db');
    const previous = process.umask(0o022);
    let db;
    try {
      db = openDatabase(file);
    } finally {
      process.umask(previous);
    }
    try {
      db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // SQLite gives the WAL file the database file's mode.
      expect(statSync(`${file}-wal`).mode & 0o777).toBe(0o600);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    } finally {
      db.close();
    }
  });

  it('tightens an existing file to 0600', () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'loose.db');
    writeFileSync(file, '', { mode: 0o644 });
    openDatabase(file).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('opens an in-memory database without touching the file system', () => {
    const db = openDatabase(':memory:');
    expect(db.memory).toBe(true);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });
});
