import { chmodSync, closeSync, constants, openSync } from 'node:fs';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) a SQLite database configured the way every
 * Mosaic store expects: WAL so readers never block the writer, NORMAL sync
 * (durable across process crashes, which is what matters for a local tool),
 * foreign keys enforced, and a busy timeout so several processes (server,
 * CLI, tests) can share one file. The file holds prompts and agent output
 * summaries, so it is created 0600; SQLite gives its -wal/-shm files the same
 * mode as the database file.
 */
export function openDatabase(file: string): SqliteDatabase {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory) {
    // Create the file ourselves so it never exists with the umask's looser mode.
    closeSync(openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600));
    chmodSync(file, 0o600);
  }
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
