import type { AgentEvent, AgentRecord, AgentState, PublicAgent } from '../../agents/index.js';
import { TERMINAL_STATES } from '../../agents/index.js';
import type { AgentFilter } from '../../store/index.js';
import type { SqliteDatabase, SqliteEventStore } from '../../store/sqlite/index.js';
import type { MirrorEntry } from './types.js';

interface MirrorRow {
  agent_id: string;
  instance_id: string;
  data: string;
  last_seq: number;
}

const toEntry = (row: MirrorRow): MirrorEntry => ({ agent: JSON.parse(row.data) as PublicAgent, instanceId: row.instance_id, lastSeq: row.last_seq });

const RANK: Record<AgentState, number> = { queued: 0, spawning: 1, running: 2, completed: 3, failed: 3, killed: 3 };

/**
 * Whether `incoming` is a later view of the agent than `current`. Records
 * reach the mirror both from command responses and from events, in any
 * order; a terminal record is final, otherwise the later update wins (the
 * further state on a tie), so an older view never overwrites a newer one.
 */
export function isNewer(current: PublicAgent, incoming: PublicAgent): boolean {
  if (TERMINAL_STATES.includes(current.state)) return false;
  if (incoming.updatedAt !== current.updatedAt) return incoming.updatedAt > current.updatedAt;
  return RANK[incoming.state] >= RANK[current.state];
}

export type MirrorWrite = { outcome: 'stored'; entry: MirrorEntry } | { outcome: 'stale'; entry: MirrorEntry } | { outcome: 'foreign' };

export type EventApply =
  | { outcome: 'applied'; entry: MirrorEntry; event: AgentEvent }
  | { outcome: 'duplicate' }
  | { outcome: 'foreign' };

/** The `federation_mirror` table: agents this instance spawned on peers. */
export class SqliteMirrorStore {
  private readonly getStmt;
  private readonly upsertStmt;
  private readonly removeStmt;
  private readonly listStmt;
  private readonly writeTx;
  private readonly eventTx;

  constructor(db: SqliteDatabase, private readonly events: SqliteEventStore, private readonly now: () => number = Date.now) {
    this.getStmt = db.prepare<[string], MirrorRow>('SELECT agent_id, instance_id, data, last_seq FROM federation_mirror WHERE agent_id = ?');
    this.upsertStmt = db.prepare(
      `INSERT INTO federation_mirror (agent_id, instance_id, state, repo, task_id, origin, data, last_seq, created_at, updated_at)
       VALUES (@id, @instanceId, @state, @repo, @taskId, @origin, @data, @lastSeq, @at, @updatedAt)
       ON CONFLICT (agent_id) DO UPDATE SET state = @state, repo = @repo, task_id = @taskId, origin = @origin,
         data = @data, last_seq = @lastSeq, updated_at = @updatedAt`);
    this.removeStmt = db.prepare<[string]>('DELETE FROM federation_mirror WHERE agent_id = ?');
    this.listStmt = db.prepare<[], MirrorRow>('SELECT agent_id, instance_id, data, last_seq FROM federation_mirror ORDER BY created_at, rowid');
    this.writeTx = db.transaction((instanceId: string, agent: PublicAgent) => this.writeLocked(instanceId, agent));
    this.eventTx = db.transaction((type: string, instanceId: string, agent: PublicAgent, seq: number | undefined, view: PublicAgent) =>
      this.eventLocked(type, instanceId, agent, seq, view));
  }

  get(agentId: string): MirrorEntry | undefined {
    const row = this.getStmt.get(agentId);
    return row && toEntry(row);
  }

  list(filter: AgentFilter & { instanceId?: string } = {}): MirrorEntry[] {
    const states = filter.state === undefined ? undefined : typeof filter.state === 'string' ? [filter.state] : filter.state;
    return this.listStmt.all().map(toEntry).filter(({ agent, instanceId }) =>
      (states === undefined || states.includes(agent.state)) &&
      (filter.repo === undefined || agent.repo === filter.repo) &&
      (filter.taskId === undefined || agent.taskId === filter.taskId) &&
      (filter.origin === undefined || agent.origin === filter.origin) &&
      (filter.instanceId === undefined || instanceId === filter.instanceId));
  }

  /** Stores a record a peer answered with (spawn, status, kill), unless the mirror already holds a later one. */
  write(instanceId: string, agent: PublicAgent): MirrorWrite {
    return this.writeTx.immediate(instanceId, agent);
  }

  /**
   * Applies a pushed event once: only when its `seq` is above the last one
   * applied for the agent (so a redelivery, even long after the replay
   * window, changes nothing), and appends it to this instance's event log in
   * the same transaction so `/events` carries each remote transition once.
   */
  applyEvent(type: string, instanceId: string, agent: PublicAgent, seq: number | undefined, eventView: PublicAgent = agent): EventApply {
    return this.eventTx.immediate(type, instanceId, agent, seq, eventView);
  }

  remove(agentId: string): boolean {
    return this.removeStmt.run(agentId).changes > 0;
  }

  private writeLocked(instanceId: string, agent: PublicAgent): MirrorWrite {
    const current = this.get(agent.id);
    if (current && current.instanceId !== instanceId) return { outcome: 'foreign' };
    if (current && !isNewer(current.agent, agent)) return { outcome: 'stale', entry: current };
    const entry: MirrorEntry = { agent, instanceId, lastSeq: current?.lastSeq ?? 0 };
    this.store(entry);
    return { outcome: 'stored', entry };
  }

  private eventLocked(type: string, instanceId: string, agent: PublicAgent, seq: number | undefined, view: PublicAgent): EventApply {
    const current = this.get(agent.id);
    if (current && current.instanceId !== instanceId) return { outcome: 'foreign' };
    if (current && seq !== undefined && seq <= current.lastSeq) return { outcome: 'duplicate' };
    if (current && seq === undefined && !isNewer(current.agent, agent)) return { outcome: 'duplicate' };
    const keep = current !== undefined && !isNewer(current.agent, agent);
    const entry: MirrorEntry = { agent: keep ? current.agent : agent, instanceId, lastSeq: seq ?? current?.lastSeq ?? 0 };
    this.store(entry);
    // The event log gets the transition as it happened, even when the mirror already shows a later state.
    // PublicAgent has no env; the log stores agent records, which EventFeed shows through publicAgent() anyway.
    const event = this.events.appendSync(type, agent.id, view as AgentRecord);
    return { outcome: 'applied', entry, event };
  }

  private store(entry: MirrorEntry): void {
    const { agent } = entry;
    this.upsertStmt.run({
      id: agent.id,
      instanceId: entry.instanceId,
      state: agent.state,
      repo: agent.repo,
      taskId: agent.taskId,
      origin: agent.origin,
      data: JSON.stringify(agent),
      lastSeq: entry.lastSeq,
      at: this.now(),
      updatedAt: agent.updatedAt,
    });
  }
}
