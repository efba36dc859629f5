import type { SqliteDatabase } from '../../store/sqlite/index.js';
import type { OutboxRow } from './types.js';

interface Row {
  peer: string;
  seq: number;
  agent_id: string;
  attempts: number;
  next_attempt_at: number;
}

const toRow = (r: Row): OutboxRow => ({ peer: r.peer, seq: r.seq, agentId: r.agent_id, attempts: r.attempts, nextAttemptAt: r.next_attempt_at });

/**
 * The `federation_outbox` table: agent events owed to the peer that spawned
 * the agent. Rows are written by the trigger on `events` (see migrations.ts),
 * in the transaction of the transition itself.
 */
export class SqliteOutboxStore {
  private readonly pendingStmt;
  private readonly peersStmt;
  private readonly deliveredStmt;
  private readonly failedStmt;
  private readonly retryStmt;
  private readonly afterStmt;
  private readonly pruneStmt;
  private readonly capStmt;
  private readonly oldestPendingStmt;
  private readonly ackStmt;

  constructor(db: SqliteDatabase) {
    this.pendingStmt = db.prepare<[string, number], Row>(
      "SELECT * FROM federation_outbox WHERE peer = ? AND status = 'pending' ORDER BY seq LIMIT ?");
    // A peer's queue moves in seq order, so it is due when its oldest pending row is.
    this.peersStmt = db.prepare<[], { peer: string; due: number }>(
      `SELECT o.peer, o.next_attempt_at AS due FROM federation_outbox o
       WHERE o.status = 'pending' AND o.seq = (SELECT min(seq) FROM federation_outbox WHERE peer = o.peer AND status = 'pending')`);
    this.deliveredStmt = db.prepare<[number, string, number]>(
      "UPDATE federation_outbox SET status = 'delivered', delivered_at = ?, attempts = attempts + 1 WHERE peer = ? AND seq = ?");
    this.failedStmt = db.prepare<[string, string, number]>(
      "UPDATE federation_outbox SET status = 'failed', last_error = ?, attempts = attempts + 1 WHERE peer = ? AND seq = ?");
    this.retryStmt = db.prepare<[number, string, string, number]>(
      'UPDATE federation_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE peer = ? AND seq = ?');
    this.afterStmt = db.prepare<[string, number, number], Row>(
      "SELECT * FROM federation_outbox WHERE peer = ? AND seq > ? AND status <> 'failed' ORDER BY seq LIMIT ?");
    this.ackStmt = db.prepare<[number, string, number]>(
      "UPDATE federation_outbox SET status = 'delivered', delivered_at = ? WHERE peer = ? AND seq <= ? AND status = 'pending'");
    this.pruneStmt = db.prepare<[number]>("DELETE FROM federation_outbox WHERE status <> 'pending' AND created_at < ?");
    this.capStmt = db.prepare<[number]>(`DELETE FROM federation_outbox WHERE status <> 'pending'
      AND rowid <= (SELECT rowid FROM federation_outbox WHERE status <> 'pending' ORDER BY rowid DESC LIMIT 1 OFFSET ?)`);
    this.oldestPendingStmt = db.prepare<[], { seq: number | null }>("SELECT min(seq) AS seq FROM federation_outbox WHERE status = 'pending'");
  }

  /** The peer's undelivered rows, oldest first. */
  pending(peer: string, limit = 100): OutboxRow[] {
    return this.pendingStmt.all(peer, limit).map(toRow);
  }

  /** Peers with undelivered rows, and when the oldest of them is due. */
  peersWithPending(): { peer: string; due: number }[] {
    return this.peersStmt.all();
  }

  delivered(peer: string, seq: number, at: number): void {
    this.deliveredStmt.run(at, peer, seq);
  }

  /** Gives up on a row the peer refused for good, so later events are not held back by it. */
  failed(peer: string, seq: number, error: string): void {
    this.failedStmt.run(error.slice(0, 500), peer, seq);
  }

  retryLater(peer: string, seq: number, at: number, error: string): void {
    this.retryStmt.run(at, error.slice(0, 500), peer, seq);
  }

  /** Rows after `seq` whatever their delivery state, for a peer that pulls (QUERY events). */
  after(peer: string, seq: number, limit: number): OutboxRow[] {
    return this.afterStmt.all(peer, seq, limit).map(toRow);
  }

  /** Marks every pending row up to `seq` delivered: a pulling peer has them. */
  acknowledge(peer: string, seq: number, at: number): number {
    return this.ackStmt.run(at, peer, seq).changes;
  }

  /** Forgets settled rows created before `before`. */
  prune(before: number): number {
    return this.pruneStmt.run(before).changes;
  }

  /** Keeps the newest `keep` settled rows; pending rows are never dropped. */
  cap(keep: number): number {
    return this.capStmt.run(keep).changes;
  }

  /** The seq of the oldest event still to be delivered to some peer: events from it on must be kept. */
  oldestPendingSeq(): number | undefined {
    return this.oldestPendingStmt.get()?.seq ?? undefined;
  }
}
