import type { Selectable } from 'kysely';
import { TERMINAL_STATES, type AgentEvent, type AgentRecord, type AgentState } from '../../core/agent-model.js';
import { conflict } from '../../core/errors.js';
import type { AgentFilter, AgentPatch, AgentStore, QueuedAgent, QueueSkip } from '../types.js';
import { agentToRow, applyPatch, eventView, normalizeAgent, rowToAgent } from './agent-row.js';
import { atomic, isUniqueViolation, type SqlContext } from './context.js';
import { SqlEventStore } from './events.js';
import type { AgentsTable, CoreTables } from './schema.js';

/** The event type of every agent transition (and of an agent's creation). */
export const AGENT_STATE_EVENT = 'agent.state';

const isTerminal = (state: AgentState): boolean => TERMINAL_STATES.includes(state);
const asList = (state: AgentState | readonly AgentState[]): readonly AgentState[] => (typeof state === 'string' ? [state] : state);
const toAgent = (row: Selectable<AgentsTable>): AgentRecord => rowToAgent(row);

export interface InsertResult {
  agent: AgentRecord;
  created: boolean;
  event: AgentEvent | null;
}

type Ctx = SqlContext<CoreTables>;

/**
 * The `agents` table. Every write that changes an agent re-reads the row in
 * its transaction — locked (FOR UPDATE) on PostgreSQL, under the database
 * lock of BEGIN IMMEDIATE on SQLite — and writes with a compare-and-set on
 * the state it read, so the checks (idempotency key, state) hold across
 * processes sharing the database: of two concurrent transitions one wins.
 */
export class SqlAgentStore implements AgentStore {
  constructor(private readonly ctx: Ctx) {}

  async get(id: string): Promise<AgentRecord | undefined> {
    const row = await this.ctx.db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toAgent(row);
  }

  async findByIdempotencyKey(origin: string, key: string): Promise<AgentRecord | undefined> {
    const row = await this.ctx.db.selectFrom('agents').selectAll()
      .where('origin', '=', origin).where('idempotency_key', '=', key).executeTakeFirst();
    return row === undefined ? undefined : toAgent(row);
  }

  /** Agents matching every given criterion, oldest first. */
  async list(filter: AgentFilter = {}): Promise<AgentRecord[]> {
    let q = this.ctx.db.selectFrom('agents').selectAll();
    if (filter.state !== undefined) {
      const states = asList(filter.state);
      // `IN ()` is an error on PostgreSQL: no state asked for matches nothing.
      if (states.length === 0) return [];
      q = q.where('state', 'in', states);
    }
    if (filter.repo !== undefined) q = q.where('repo', '=', filter.repo);
    if (filter.taskId !== undefined) q = q.where('task_id', '=', filter.taskId);
    if (filter.origin !== undefined) q = q.where('origin', '=', filter.origin);
    if (filter.node !== undefined) q = q.where('node', '=', filter.node);
    const rows = await q.orderBy('created_at').orderBy('rowid').execute();
    return rows.map(toAgent);
  }

  async countByState(state: AgentState | AgentState[]): Promise<number> {
    if (asList(state).length === 0) return 0;
    const row = await this.ctx.db.selectFrom('agents').select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', 'in', asList(state)).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Every queued agent in the order they start (highest priority first, then oldest), only what a scheduler pass weighs. */
  async queued(afterSeq = 0): Promise<QueuedAgent[]> {
    const rows = await this.ctx.db.selectFrom('agents').select(['rowid', 'id', 'repo', 'origin', 'runtime', 'waiting_for']).where('state', '=', 'queued')
      .where('rowid', '>', afterSeq).orderBy('priority', 'desc').orderBy('created_at').orderBy('rowid').execute();
    return rows.map((r) => ({
      seq: Number(r.rowid), id: r.id, repo: r.repo, origin: r.origin,
      runtime: { kind: (JSON.parse(r.runtime) as { kind: AgentRecord['runtime']['kind'] }).kind },
      waitingFor: r.waiting_for === null ? null : (JSON.parse(r.waiting_for) as AgentRecord['waitingFor']),
    }));
  }

  /** Highest priority first, then oldest, then first inserted. */
  async nextQueued(skip: QueueSkip = {}): Promise<AgentRecord | undefined> {
    let q = this.ctx.db.selectFrom('agents').selectAll().where('state', '=', 'queued');
    if (skip.repos && skip.repos.length > 0) q = q.where('repo', 'not in', skip.repos);
    if (skip.origins && skip.origins.length > 0) q = q.where('origin', 'not in', skip.origins);
    // The runtime column is JSON.stringify of a spec whose first key is always `kind` (every runtime's normalize builds it so).
    for (const kind of skip.runtimes ?? []) q = q.where('runtime', 'not like', `{"kind":${JSON.stringify(kind)}%`);
    const row = await q.orderBy('priority', 'desc').orderBy('created_at').orderBy('rowid').limit(1).executeTakeFirst();
    return row === undefined ? undefined : toAgent(row);
  }

  /**
   * Inserts a new queued agent and its first event in one transaction. With
   * an idempotency key already used by the same origin, writes nothing and
   * returns that agent; concurrent inserts with one key (from any process)
   * create one agent: the unique index decides, and the losers read the
   * winner's row.
   */
  insert(agent: AgentRecord): Promise<InsertResult> {
    return atomic(this.ctx, async (tx) => {
      const key = agent.idempotencyKey ?? null;
      const table = new SqlAgentStore(tx);
      if (key !== null) {
        const existing = await table.findByIdempotencyKey(agent.origin, key);
        if (existing !== undefined) return { agent: existing, created: false, event: null };
      }
      const record = normalizeAgent(agent);
      let inserted: { id: string } | undefined;
      try {
        inserted = await tx.db.insertInto('agents').values(agentToRow(record))
          .onConflict((oc) => oc.columns(['origin', 'idempotency_key']).where('idempotency_key', 'is not', null).doNothing())
          .returning('id').executeTakeFirst();
      } catch (err) {
        if (isUniqueViolation(err, { primaryKey: true, pgConstraint: 'agents_pkey' })) {
          throw conflict('agent_exists', `an agent with id ${agent.id} already exists`, { id: agent.id });
        }
        throw err;
      }
      if (inserted === undefined && key !== null) {
        const winner = await table.findByIdempotencyKey(agent.origin, key);
        if (winner !== undefined) return { agent: winner, created: false, event: null };
        throw new Error(`agent insert with idempotency key ${key} was skipped but no agent holds the key`);
      }
      const event = await new SqlEventStore(tx).appendRaw(AGENT_STATE_EVENT, record.id, eventView(record));
      return { agent: record, created: true, event };
    });
  }

  transition(id: string, from: readonly AgentState[], to: AgentState, patch?: AgentPatch): Promise<{ agent: AgentRecord; event: AgentEvent } | undefined> {
    return atomic(this.ctx, async (tx) => {
      const current = await lockedGet(tx, id);
      if (current === undefined || isTerminal(current.state) || !from.includes(current.state)) return undefined;
      const next = normalizeAgent({ ...applyPatch(current, patch), state: to, updatedAt: tx.now() });
      if (!(await write(tx, next, current.state))) return undefined;
      const event = await new SqlEventStore(tx).appendRaw(AGENT_STATE_EVENT, id, eventView(next), next.updatedAt);
      return { agent: next, event };
    });
  }

  /** Updates non-state fields without an event; `undefined` patch values leave a field as is, null clears it. */
  update(id: string, patch: AgentPatch): Promise<AgentRecord | undefined> {
    return atomic(this.ctx, (tx) => updateLocked(tx, id, patch));
  }

  updateWithEvent(id: string, patch: AgentPatch, type: string): Promise<{ agent: AgentRecord; event: AgentEvent } | undefined> {
    return atomic(this.ctx, async (tx) => {
      const agent = await updateLocked(tx, id, patch);
      if (agent === undefined) return undefined;
      return { agent, event: await new SqlEventStore(tx).appendRaw(type, id, eventView(agent), agent.updatedAt) };
    });
  }

  /** Deletes the agent only when it is terminal; its events stay in the log. */
  async remove(id: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('agents').where('id', '=', id).where('state', 'in', TERMINAL_STATES).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async reservedPorts(): Promise<number[]> {
    const rows = await this.ctx.db.selectFrom('agents').select('port')
      .where('port', 'is not', null).where('state', 'not in', TERMINAL_STATES).orderBy('port').execute();
    return rows.map((r) => r.port as number);
  }
}

/** The row, locked until the transaction ends on PostgreSQL (SQLite's IMMEDIATE transaction already holds the database). */
async function lockedGet(tx: Ctx, id: string): Promise<AgentRecord | undefined> {
  const row = await tx.db.selectFrom('agents').selectAll().where('id', '=', id)
    .$if(tx.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
  return row === undefined ? undefined : toAgent(row);
}

async function updateLocked(tx: Ctx, id: string, patch: AgentPatch): Promise<AgentRecord | undefined> {
  const current = await lockedGet(tx, id);
  if (current === undefined) return undefined;
  const next = normalizeAgent({ ...applyPatch(current, patch), updatedAt: tx.now() });
  return (await write(tx, next, current.state)) ? next : undefined;
}

/** Compare-and-set on the state the caller read, even under the row lock: belt and braces. */
async function write(tx: Ctx, agent: AgentRecord, expectedState: AgentState): Promise<boolean> {
  const { id: _id, ...columns } = agentToRow(agent);
  const result = await tx.db.updateTable('agents').set(columns)
    .where('id', '=', agent.id).where('state', '=', expectedState).executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
