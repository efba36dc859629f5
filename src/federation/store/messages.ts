import type Database from 'better-sqlite3';
import type { SqliteDatabase } from '../../store/sqlite/index.js';
import type { MessageKind } from '../protocol/index.js';
import type { MessageDirection, MessageFilter, MessageRecord, MessageStatus } from './types.js';

interface MessageRow {
  message_id: string;
  direction: string;
  kind: string;
  peer: string;
  op: string | null;
  correlation_id: string | null;
  status: string;
  http_status: number | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  verified: number;
  created_at: number;
  updated_at: number;
}

function toRecord(row: MessageRow): MessageRecord {
  return {
    messageId: row.message_id,
    direction: row.direction as MessageDirection,
    kind: row.kind as MessageKind,
    peer: row.peer,
    op: row.op,
    correlationId: row.correlation_id,
    status: row.status as MessageStatus,
    httpStatus: row.http_status,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    attempts: row.attempts,
    verified: row.verified === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface MessageStart {
  messageId: string;
  direction: MessageDirection;
  kind: MessageKind;
  peer: string;
  op?: string | null;
  correlationId?: string | null;
  verified: boolean;
}

export interface MessageOutcome {
  status: MessageStatus;
  httpStatus?: number | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** Attempts this outcome adds (an outbound send's tries). */
  attempts?: number;
}

export const DEFAULT_MESSAGES_LIMIT = 100;
export const MAX_MESSAGES_LIMIT = 1000;

/**
 * The `federation_messages` table: every sent and received message and its
 * status. A message is one row however often it is tried or repeated.
 */
export class SqliteMessageStore {
  private readonly startStmt;
  private readonly startUnverifiedStmt;
  private readonly finishStmt;
  private readonly pruneStmt;
  private readonly capStmt;
  private readonly trimStmt;
  private readonly listStmts = new Map<string, Database.Statement<(string | number)[], MessageRow>>();

  constructor(private readonly db: SqliteDatabase, private readonly now: () => number = Date.now) {
    // A repeat of a known message (a retry, an outbox re-send) goes back to pending on the same row.
    this.startStmt = db.prepare(
      `INSERT INTO federation_messages (message_id, direction, kind, peer, op, correlation_id, status, attempts, verified, created_at, updated_at)
       VALUES (@messageId, @direction, @kind, @peer, @op, @correlationId, 'pending', 0, 1, @at, @at)
       ON CONFLICT (direction, peer, message_id) DO UPDATE SET status = 'pending', verified = 1, updated_at = @at`);
    // A message refused before its signature was checked may claim any sender and id: it never overwrites a row.
    this.startUnverifiedStmt = db.prepare(
      `INSERT OR IGNORE INTO federation_messages (message_id, direction, kind, peer, op, correlation_id, status, attempts, verified, created_at, updated_at)
       VALUES (@messageId, @direction, @kind, @peer, @op, @correlationId, 'pending', 0, 0, @at, @at)`);
    this.finishStmt = db.prepare(
      `UPDATE federation_messages SET status = @status, http_status = @httpStatus, error_code = @errorCode,
         error_message = @errorMessage, attempts = attempts + @attempts, updated_at = @at
       WHERE direction = @direction AND peer = @peer AND message_id = @messageId AND verified = @verified`);
    this.pruneStmt = db.prepare<[number]>('DELETE FROM federation_messages WHERE updated_at < ?');
    // Settled rows past the newest `keep`; a message still pending is never dropped under its sender.
    this.capStmt = db.prepare<[number]>(`DELETE FROM federation_messages WHERE status <> 'pending'
      AND seq <= (SELECT seq FROM federation_messages ORDER BY seq DESC LIMIT 1 OFFSET ?)`);
    this.trimStmt = db.prepare<[number]>(
      `DELETE FROM federation_messages WHERE verified = 0 AND seq <=
         (SELECT seq FROM federation_messages WHERE verified = 0 ORDER BY seq DESC LIMIT 1 OFFSET ?)`);
  }

  start(m: MessageStart): void {
    const params = { ...m, op: m.op ?? null, correlationId: m.correlationId ?? null, at: this.now() };
    if (m.verified) this.startStmt.run(params);
    else this.startUnverifiedStmt.run(params);
  }

  finish(m: Pick<MessageStart, 'messageId' | 'direction' | 'peer' | 'verified'>, outcome: MessageOutcome): void {
    this.finishStmt.run({
      messageId: m.messageId,
      direction: m.direction,
      peer: m.peer,
      verified: m.verified ? 1 : 0,
      status: outcome.status,
      httpStatus: outcome.httpStatus ?? null,
      errorCode: outcome.errorCode ?? null,
      errorMessage: outcome.errorMessage?.slice(0, 1000) ?? null,
      attempts: outcome.attempts ?? 1,
      at: this.now(),
    });
  }

  /** Newest first. */
  list(filter: MessageFilter = {}): MessageRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    for (const key of ['direction', 'status', 'peer', 'kind'] as const) {
      const value = filter[key];
      if (value !== undefined) {
        where.push(`${key} = ?`);
        params.push(value);
      }
    }
    const sql = `SELECT * FROM federation_messages${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    let stmt = this.listStmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<(string | number)[], MessageRow>(sql);
      this.listStmts.set(sql, stmt);
    }
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? DEFAULT_MESSAGES_LIMIT)), MAX_MESSAGES_LIMIT);
    return stmt.all(...params, limit).map(toRecord);
  }

  prune(before: number): number {
    return this.pruneStmt.run(before).changes;
  }

  /** Keeps the newest `keep` messages (and any still pending). */
  cap(keep: number): number {
    return this.capStmt.run(keep).changes;
  }

  /**
   * Keeps only the newest `keep` refused-unverified messages: anyone can
   * send those, so their number must not grow with what strangers send.
   */
  trimUnverified(keep: number): number {
    return this.trimStmt.run(keep).changes;
  }
}
