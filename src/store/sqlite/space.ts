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
 * vacuum), then checkpoints the WAL so the database file shrinks. The
 * checkpoint is PASSIVE: it never waits for another process's readers (a
 * TRUNCATE would block the server for up to the busy timeout); what it cannot
 * do now, a later checkpoint does, and journal_size_limit cuts the -wal back.
 * Returns the pages freed.
 */
export function reclaimSpace(db: SqliteDatabase): number {
  const free = Number(db.pragma('freelist_count', { simple: true }));
  if (free > 0) db.pragma('incremental_vacuum');
  db.pragma('wal_checkpoint(PASSIVE)');
  return free;
}
