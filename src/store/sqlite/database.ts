import { chmodSync, closeSync, constants, openSync } from 'node:fs';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;
const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

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
    // Takes effect only in a new file (before its first table): pruned rows' pages can then be given back
    // (see space.ts; an older store is converted once by the server).
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // A checkpointed WAL is cut back to this, so one large transaction does not leave a large file behind.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
