import type { SqliteDatabase } from '../../store/sqlite/index.js';

/**
 * `federation_requests`: where each pending connection request (CONNECT
 * without a token) came from, so requests can be capped per source address
 * and expired: anyone with fresh keys can ask, and one address's flood must
 * not lock the door for everyone else.
 */
export class SqliteRequestStore {
  private readonly putStmt;
  private readonly countStmt;
  private readonly expiredStmt;
  private readonly removeStmt;

  constructor(db: SqliteDatabase) {
    this.putStmt = db.prepare<[string, string, number]>(
      'INSERT INTO federation_requests (instance_id, source, created_at) VALUES (?, ?, ?) ON CONFLICT (instance_id) DO UPDATE SET source = excluded.source, created_at = excluded.created_at');
    this.countStmt = db.prepare<[string], { n: number }>(
      `SELECT count(*) AS n FROM federation_requests r JOIN federation_connections c ON c.instance_id = r.instance_id
       WHERE r.source = ? AND c.state = 'pending' AND c.direction = 'inbound'`);
    this.expiredStmt = db.prepare<[number], { instance_id: string }>(
      `SELECT c.instance_id FROM federation_connections c LEFT JOIN federation_requests r ON r.instance_id = c.instance_id
       WHERE c.state = 'pending' AND c.direction = 'inbound' AND coalesce(r.created_at, c.updated_at) < ?`);
    this.removeStmt = db.prepare<[string]>('DELETE FROM federation_requests WHERE instance_id = ?');
  }

  record(instanceId: string, source: string, at: number): void {
    this.putStmt.run(instanceId, source, at);
  }

  /** Pending inbound requests from `source`. */
  pendingFrom(source: string): number {
    return this.countStmt.get(source)?.n ?? 0;
  }

  /** Instance ids of pending inbound requests made before `before`. */
  expired(before: number): string[] {
    return this.expiredStmt.all(before).map((r) => r.instance_id);
  }

  forget(instanceId: string): void {
    this.removeStmt.run(instanceId);
  }
}
