import type { SqliteDatabase } from '../../store/sqlite/index.js';
import type { SeenResponse } from './types.js';

interface SeenRow {
  http_status: number;
  response: Buffer;
  signature: string;
}

/** The `federation_seen` table: the replay cache, keyed by (peer instance id, message id). */
export class SqliteSeenStore {
  private readonly getStmt;
  private readonly putStmt;
  private readonly pruneStmt;
  private readonly capStmt;

  constructor(db: SqliteDatabase, private readonly now: () => number = Date.now) {
    this.getStmt = db.prepare<[string, string], SeenRow>(
      'SELECT http_status, response, signature FROM federation_seen WHERE peer = ? AND message_id = ?');
    // The first stored answer wins: a repeat is answered with it, never replaced.
    this.putStmt = db.prepare<[string, string, number, Buffer, string, number]>(
      'INSERT OR IGNORE INTO federation_seen (peer, message_id, http_status, response, signature, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.pruneStmt = db.prepare<[number]>('DELETE FROM federation_seen WHERE created_at < ?');
    this.capStmt = db.prepare<[number]>(
      'DELETE FROM federation_seen WHERE rowid <= (SELECT rowid FROM federation_seen ORDER BY rowid DESC LIMIT 1 OFFSET ?)');
  }

  get(peer: string, messageId: string): SeenResponse | undefined {
    const row = this.getStmt.get(peer, messageId);
    return row && { status: row.http_status, bytes: Buffer.from(row.response), signature: row.signature };
  }

  put(peer: string, messageId: string, response: SeenResponse): void {
    this.putStmt.run(peer, messageId, response.status, response.bytes, response.signature, this.now());
  }

  prune(before: number): number {
    return this.pruneStmt.run(before).changes;
  }

  /**
   * Keeps the newest `keep` answers. A repeat of an older message is then run
   * again: agent.spawn is idempotent by its message id, EVENTs by seq, and a
   * second kill is refused, so nothing happens twice.
   */
  cap(keep: number): number {
    return this.capStmt.run(keep).changes;
  }
}
