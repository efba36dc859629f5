import type { AgentEvent, AgentRecord } from '../../core/agent-model.js';
import { eventView } from './agent-row.js';
import type { EventStore } from '../types.js';
import type { SqliteDatabase } from './database.js';

interface EventRow {
  seq: number;
  type: string;
  agent_id: string;
  data: string;
  created_at: number;
}

export const DEFAULT_EVENTS_LIMIT = 1000;

function rowToEvent(row: EventRow): AgentEvent {
  return { seq: row.seq, type: row.type, agentId: row.agent_id, data: JSON.parse(row.data) as AgentRecord, createdAt: row.created_at };
}

/** The `events` table: the ordered log behind SSE and the federation outbox. */
export class SqliteEventStore implements EventStore {
  private readonly insertStmt;
  private readonly afterStmt;
  private readonly lastSeqStmt;
  private readonly pruneStmt;

  constructor(db: SqliteDatabase, private readonly now: () => number = Date.now) {
    this.insertStmt = db.prepare<[string, string, string, number], EventRow>(
      'INSERT INTO events (type, agent_id, data, created_at) VALUES (?, ?, ?, ?) RETURNING *');
    this.afterStmt = db.prepare<[number, number], EventRow>('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    // sqlite_sequence rather than max(seq): it stays right after old events are pruned.
    this.lastSeqStmt = db.prepare<[], { seq: number }>(
      "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS seq");
    // Older than `before`, or past the newest `maxRows`; never at or after `keepFrom`.
    this.pruneStmt = db.prepare<{ before: number; maxRows: number; keepFrom: number }>(`
      DELETE FROM events WHERE seq < @keepFrom AND (
        created_at < @before
        OR seq <= (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET @maxRows))`);
  }

  /**
   * Deletes events older than `before` or beyond the newest `maxRows`,
   * keeping every event from `keepFrom` on (events still to be delivered to a
   * peer). Seqs are never reused, so readers resuming by seq stay correct.
   */
  prune(opts: { before: number; maxRows: number; keepFrom?: number }): number {
    return this.pruneStmt.run({ before: opts.before, maxRows: opts.maxRows, keepFrom: opts.keepFrom ?? Number.MAX_SAFE_INTEGER }).changes;
  }

  /**
   * Synchronous append, for the agent store to call inside its own
   * transaction so a transition and its event commit together (and share
   * one timestamp, `at`).
   */
  appendSync(type: string, agentId: string, data: AgentRecord, at: number = this.now()): AgentEvent {
    const row = this.insertStmt.get(type, agentId, JSON.stringify(data), at);
    if (row === undefined) throw new Error('INSERT ... RETURNING returned no row');
    return rowToEvent(row);
  }

  afterSync(seq: number, limit: number = DEFAULT_EVENTS_LIMIT): AgentEvent[] {
    const n = Math.floor(limit);
    if (!(n > 0)) return [];
    return this.afterStmt.all(Math.floor(seq), n).map(rowToEvent);
  }

  lastSeqSync(): number {
    return this.lastSeqStmt.get()?.seq ?? 0;
  }

  /** Appends an event; like transitions' events it never carries the agent's `env`. */
  async append(type: string, agentId: string, data: AgentRecord): Promise<AgentEvent> {
    return this.appendSync(type, agentId, eventView(data));
  }

  async after(seq: number, limit: number = DEFAULT_EVENTS_LIMIT): Promise<AgentEvent[]> {
    return this.afterSync(seq, limit);
  }

  async lastSeq(): Promise<number> {
    return this.lastSeqSync();
  }
}
