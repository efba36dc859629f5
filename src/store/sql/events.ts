import { sql, type Selectable } from '../kysely.js';
import type { AgentEvent, AgentRecord } from '../../core/agent-model.js';
import type { EventStore } from '../types.js';
import { eventView } from './agent-row.js';
import type { SqlContext } from './context.js';
import type { CoreTables, EventsTable } from './schema.js';

export const DEFAULT_EVENTS_LIMIT = 1000;

function rowToEvent(row: Selectable<EventsTable>): AgentEvent {
  return { seq: row.seq, type: row.type, agentId: row.agent_id, data: JSON.parse(row.data) as AgentRecord, createdAt: row.created_at };
}

/**
 * The `events` table: the ordered log behind SSE and the federation outbox.
 * Seqs are strictly increasing in commit order and never reused (SQLite:
 * AUTOINCREMENT under its single writer; PostgreSQL: the event_sequence row,
 * see migrations/001-core.ts), so a reader resuming after N misses nothing.
 */
export class SqlEventStore implements EventStore {
  constructor(private readonly ctx: SqlContext<CoreTables>) {}

  /**
   * Appends `data` as is, in the caller's transaction when it runs in one (a
   * transition and its event commit together and share the time `at`).
   */
  appendRaw(type: string, agentId: string, data: AgentRecord, at: number = this.ctx.now()): Promise<AgentEvent> {
    const values = { type, agent_id: agentId, data: JSON.stringify(data), created_at: at };
    if (this.ctx.dialect === 'sqlite') {
      return this.ctx.db.insertInto('events').values(values).returningAll().executeTakeFirstOrThrow().then(rowToEvent);
    }
    // One statement (one round trip, its own transaction when the caller has none): take the next seq from the
    // counter row, whose lock is held until commit, and insert the event with it.
    return this.ctx.db
      .with('next', (qb) => qb.updateTable('event_sequence').set({ last_seq: sql`last_seq + 1` }).where('id', '=', 1).returning('last_seq'))
      .insertInto('events').columns(['seq', 'type', 'agent_id', 'data', 'created_at'])
      .expression((eb) => eb.selectFrom('next').select([
        'next.last_seq',
        sql<string>`${type}::text`.as('type'),
        sql<string>`${agentId}::text`.as('agent_id'),
        sql<string>`${values.data}::text`.as('data'),
        sql<number>`${at}::bigint`.as('created_at'),
      ]))
      .returning('seq').executeTakeFirstOrThrow()
      .then(({ seq }) => ({ seq, type, agentId, data: JSON.parse(values.data) as AgentRecord, createdAt: at }));
  }

  /** Appends an event; like transitions' events it never carries the agent's `env`. */
  append(type: string, agentId: string, data: AgentRecord): Promise<AgentEvent> {
    return this.appendRaw(type, agentId, eventView(data));
  }

  async after(seq: number, limit: number = DEFAULT_EVENTS_LIMIT): Promise<AgentEvent[]> {
    const n = Math.floor(limit);
    if (!(n > 0)) return [];
    const rows = await this.ctx.db.selectFrom('events').selectAll().where('seq', '>', Math.floor(seq)).orderBy('seq').limit(n).execute();
    return rows.map(rowToEvent);
  }

  /** The last seq given, which stays right after old events are pruned (not max(seq)). */
  async lastSeq(): Promise<number> {
    if (this.ctx.dialect === 'postgres') {
      const row = await this.ctx.db.selectFrom('event_sequence').select('last_seq').where('id', '=', 1).executeTakeFirst();
      return row?.last_seq ?? 0;
    }
    const row = await sql<{ seq: number }>`SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS seq`.execute(this.ctx.db);
    return row.rows[0]?.seq ?? 0;
  }

  /**
   * Deletes events older than `before` or beyond the newest `maxRows`,
   * keeping every event from `keepFrom` on (events still to be delivered to a
   * peer). Seqs are never reused, so readers resuming by seq stay correct.
   */
  async prune(opts: { before: number; maxRows: number; keepFrom?: number }): Promise<number> {
    const keepFrom = opts.keepFrom ?? Number.MAX_SAFE_INTEGER;
    const { db } = this.ctx;
    const result = await db.deleteFrom('events')
      .where('seq', '<', keepFrom)
      .where((eb) => eb.or([
        eb('created_at', '<', opts.before),
        eb('seq', '<=', eb.selectFrom('events').select('seq').orderBy('seq', 'desc').limit(1).offset(Math.max(0, Math.floor(opts.maxRows)))),
      ]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
