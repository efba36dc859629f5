import type { SqliteDatabase } from './database.js';

const INCREMENTAL = 2;

/**
 * Makes an older store (created without auto_vacuum) give pages back after
 * pruning. The mode of an existing file changes only with a VACUUM, which
 * rewrites the file once and cannot run inside a transaction: the server
 * calls this at start, before it serves anything. True when it converted.
 */
export function ensureIncrementalVacuum(db: SqliteDatabase): boolean {
  if (db.pragma('auto_vacuum', { simple: true }) === INCREMENTAL) return false;
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
  return true;
}

/**
 * Gives the pages that pruning freed back to the file system (incremental
 * vacuum), then checkpoints the WAL so the database file and its -wal stop
 * holding them. Returns the pages freed.
 */
export function reclaimSpace(db: SqliteDatabase): number {
  const free = Number(db.pragma('freelist_count', { simple: true }));
  if (free > 0) db.pragma('incremental_vacuum');
  // TRUNCATE when no reader is in the way; otherwise SQLite does what it can and the next run finishes.
  db.pragma('wal_checkpoint(TRUNCATE)');
  return free;
}
