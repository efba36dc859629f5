import type Database from 'better-sqlite3';
import { TERMINAL_STATES, type AgentEvent, type AgentRecord, type AgentState } from '../../core/agent-model.js';
import { conflict } from '../../core/errors.js';
import type { AgentFilter, AgentPatch, AgentStore } from '../types.js';
import { AGENT_COLUMNS, agentToRow, applyPatch, eventView, normalizeAgent, rowToAgent, type AgentRow } from './agent-row.js';
import type { SqliteDatabase } from './database.js';
import type { SqliteEventStore } from './events.js';

type ListStatement = Database.Statement<string[], AgentRow>;

/** The event type of every agent transition (and of an agent's creation). */
export const AGENT_STATE_EVENT = 'agent.state';

const TERMINAL_SQL = TERMINAL_STATES.map((s) => `'${s}'`).join(', ');
const isTerminal = (state: AgentState): boolean => TERMINAL_STATES.includes(state);
const asList = (state: AgentState | readonly AgentState[]): readonly AgentState[] => (typeof state === 'string' ? [state] : state);

export interface InsertResult {
  agent: AgentRecord;
  created: boolean;
  event: AgentEvent | null;
}

/**
 * The `agents` table. Every write that changes an agent's state goes through
 * an IMMEDIATE transaction that re-reads the row, so the checks (idempotency
 * key, compare-and-set on state) hold across processes sharing the file.
 */
export class SqliteAgentStore implements AgentStore {
  private readonly getStmt;
  private readonly byKeyStmt;
  private readonly insertStmt;
  private readonly writeStmt;
  private readonly nextStmt;
  private readonly countStmt;
  private readonly portsStmt;
  private readonly removeStmt;
  private readonly listStmts = new Map<string, ListStatement>();
  private readonly insertTx;
  private readonly transitionTx;
  private readonly updateTx;
  private readonly updateWithEventTx;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly events: SqliteEventStore,
    private readonly now: () => number = Date.now,
  ) {
    this.getStmt = db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE id = ?');
    this.byKeyStmt = db.prepare<[string, string], AgentRow>('SELECT * FROM agents WHERE origin = ? AND idempotency_key = ?');
    this.insertStmt = db.prepare<[AgentRow]>(
      `INSERT INTO agents (${AGENT_COLUMNS.join(', ')}) VALUES (${AGENT_COLUMNS.map((c) => `@${c}`).join(', ')})`);
    // Compare-and-set on the state the caller read, even inside the transaction: belt and braces.
    this.writeStmt = db.prepare<[AgentRow & { expected_state: string }]>(
      `UPDATE agents SET ${AGENT_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ')}
       WHERE id = @id AND state = @expected_state`);
    this.nextStmt = db.prepare<[], AgentRow>(
      "SELECT * FROM agents WHERE state = 'queued' ORDER BY priority DESC, created_at ASC, rowid ASC LIMIT 1");
    this.countStmt = db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM agents WHERE state IN (SELECT value FROM json_each(?))');
    this.portsStmt = db.prepare<[], { port: number }>(
      `SELECT port FROM agents WHERE port IS NOT NULL AND state NOT IN (${TERMINAL_SQL}) ORDER BY port`);
    this.removeStmt = db.prepare<[string]>(`DELETE FROM agents WHERE id = ? AND state IN (${TERMINAL_SQL})`);

    this.insertTx = db.transaction((agent: AgentRecord): InsertResult => this.insertLocked(agent));
    this.transitionTx = db.transaction(
      (id: string, from: readonly AgentState[], to: AgentState, patch: AgentPatch | undefined) => this.transitionLocked(id, from, to, patch));
    this.updateTx = db.transaction((id: string, patch: AgentPatch) => this.updateLocked(id, patch));
    this.updateWithEventTx = db.transaction((id: string, patch: AgentPatch, type: string) => {
      const agent = this.updateLocked(id, patch);
      if (agent === undefined) return undefined;
      return { agent, event: this.events.appendSync(type, id, eventView(agent), agent.updatedAt) };
    });
  }

  getSync(id: string): AgentRecord | undefined {
    const row = this.getStmt.get(id);
    return row === undefined ? undefined : rowToAgent(row);
  }

  insertSync(agent: AgentRecord): InsertResult {
    return this.insertTx.immediate(agent);
  }

  transitionSync(id: string, from: readonly AgentState[], to: AgentState, patch?: AgentPatch): { agent: AgentRecord; event: AgentEvent } | undefined {
    return this.transitionTx.immediate(id, from, to, patch);
  }

  async insert(agent: AgentRecord): Promise<InsertResult> {
    return this.insertSync(agent);
  }

  async get(id: string): Promise<AgentRecord | undefined> {
    return this.getSync(id);
  }

  async findByIdempotencyKey(origin: string, key: string): Promise<AgentRecord | undefined> {
    const row = this.byKeyStmt.get(origin, key);
    return row === undefined ? undefined : rowToAgent(row);
  }

  /** Agents matching every given criterion, oldest first. */
  async list(filter: AgentFilter = {}): Promise<AgentRecord[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.state !== undefined) {
      where.push('state IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(asList(filter.state)));
    }
    for (const [key, column] of [['repo', 'repo'], ['taskId', 'task_id'], ['origin', 'origin']] as const) {
      const value = filter[key];
      if (value !== undefined) {
        where.push(`${column} = ?`);
        params.push(value);
      }
    }
    const sql = `SELECT * FROM agents${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, rowid`;
    // At most 2^4 distinct statements, so the cache stays small.
    let stmt = this.listStmts.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare<string[], AgentRow>(sql);
      this.listStmts.set(sql, stmt);
    }
    return stmt.all(...params).map(rowToAgent);
  }

  async countByState(state: AgentState | AgentState[]): Promise<number> {
    return this.countStmt.get(JSON.stringify(asList(state)))?.n ?? 0;
  }

  /** Highest priority first, then oldest, then first inserted. */
  async nextQueued(): Promise<AgentRecord | undefined> {
    const row = this.nextStmt.get();
    return row === undefined ? undefined : rowToAgent(row);
  }

  async transition(
    id: string,
    from: readonly AgentState[],
    to: AgentState,
    patch?: AgentPatch,
  ): Promise<{ agent: AgentRecord; event: AgentEvent } | undefined> {
    return this.transitionSync(id, from, to, patch);
  }

  /** `undefined` patch values leave a field as is; pass null to clear it. */
  async update(id: string, patch: AgentPatch): Promise<AgentRecord | undefined> {
    return this.updateTx.immediate(id, patch);
  }

  async updateWithEvent(id: string, patch: AgentPatch, type: string): Promise<{ agent: AgentRecord; event: AgentEvent } | undefined> {
    return this.updateWithEventTx.immediate(id, patch, type);
  }

  /** Deletes the agent only when it is terminal; its events stay in the log. */
  async remove(id: string): Promise<boolean> {
    return this.removeStmt.run(id).changes > 0;
  }

  async reservedPorts(): Promise<number[]> {
    return this.portsStmt.all().map((r) => r.port);
  }

  private insertLocked(agent: AgentRecord): InsertResult {
    if (agent.idempotencyKey !== null && agent.idempotencyKey !== undefined) {
      const existing = this.byKeyStmt.get(agent.origin, agent.idempotencyKey);
      if (existing !== undefined) return { agent: rowToAgent(existing), created: false, event: null };
    }
    const record = normalizeAgent(agent);
    try {
      this.insertStmt.run(agentToRow(record));
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw conflict('agent_exists', `an agent with id ${agent.id} already exists`, { id: agent.id });
      }
      throw err;
    }
    const event = this.events.appendSync(AGENT_STATE_EVENT, record.id, eventView(record));
    return { agent: record, created: true, event };
  }

  private transitionLocked(id: string, from: readonly AgentState[], to: AgentState, patch: AgentPatch | undefined) {
    const current = this.getSync(id);
    if (current === undefined || isTerminal(current.state) || !from.includes(current.state)) return undefined;
    const next = normalizeAgent({ ...applyPatch(current, patch), state: to, updatedAt: this.now() });
    if (!this.write(next, current.state)) return undefined;
    const event = this.events.appendSync(AGENT_STATE_EVENT, id, eventView(next), next.updatedAt);
    return { agent: next, event };
  }

  private updateLocked(id: string, patch: AgentPatch): AgentRecord | undefined {
    const current = this.getSync(id);
    if (current === undefined) return undefined;
    const next = normalizeAgent({ ...applyPatch(current, patch), updatedAt: this.now() });
    return this.write(next, current.state) ? next : undefined;
  }

  private write(agent: AgentRecord, expectedState: AgentState): boolean {
    return this.writeStmt.run({ ...agentToRow(agent), expected_state: expectedState }).changes === 1;
  }
}
