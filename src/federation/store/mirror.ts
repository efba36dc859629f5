import type { AgentEvent, AgentLanding, AgentRecord, AgentState, PublicAgent } from '../../agents/index.js';
import { TERMINAL_STATES } from '../../agents/index.js';
import { atomic, narrowed, SqlEventStore, type AgentFilter, type CoreTables, type SqlContext } from '../../store/index.js';
import type { FederationTables } from './schema.js';
import type { MirrorEntry } from './types.js';

interface MirrorRow {
  instance_id: string;
  data: string;
  last_seq: number;
}
type Ctx = SqlContext<FederationTables>;

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
export class SqlMirrorStore {
  constructor(private readonly ctx: Ctx) {}

  get(agentId: string): Promise<MirrorEntry | undefined> {
    return getEntry(this.ctx, agentId, false);
  }

  async list(filter: AgentFilter & { instanceId?: string } = {}): Promise<MirrorEntry[]> {
    const states = filter.state === undefined ? undefined : typeof filter.state === 'string' ? [filter.state] : filter.state;
    const rows = await this.ctx.db.selectFrom('federation_mirror').select(['instance_id', 'data', 'last_seq'])
      .orderBy('created_at').orderBy('rowid').execute();
    return rows.map(toEntry).filter(({ agent, instanceId }) =>
      (states === undefined || states.includes(agent.state)) &&
      (filter.repo === undefined || agent.repo === filter.repo) &&
      (filter.taskId === undefined || agent.taskId === filter.taskId) &&
      (filter.origin === undefined || agent.origin === filter.origin) &&
      (filter.instanceId === undefined || instanceId === filter.instanceId));
  }

  /** Stores a record a peer answered with (spawn, status, kill), unless the mirror already holds a later one. */
  write(instanceId: string, agent: PublicAgent): Promise<MirrorWrite> {
    return atomic(this.ctx, async (tx) => {
      const current = await getEntry(tx, agent.id, true);
      if (current && current.instanceId !== instanceId) return { outcome: 'foreign' };
      if (current && !isNewer(current.agent, agent)) return { outcome: 'stale', entry: current };
      const entry: MirrorEntry = { agent, instanceId, lastSeq: current?.lastSeq ?? 0 };
      await store(tx, entry);
      return { outcome: 'stored', entry };
    });
  }

  /**
   * Applies a pushed event once: only when its `seq` is above the last one
   * applied for the agent (so a redelivery, even long after the replay
   * window, changes nothing), and appends it to this instance's event log in
   * the same transaction so `/events` carries each remote transition once.
   */
  applyEvent(type: string, instanceId: string, agent: PublicAgent, seq: number | undefined, view: PublicAgent = agent): Promise<EventApply> {
    return atomic(this.ctx, async (tx) => {
      const current = await getEntry(tx, agent.id, true);
      if (current && current.instanceId !== instanceId) return { outcome: 'foreign' };
      if (current && seq !== undefined && seq <= current.lastSeq) return { outcome: 'duplicate' };
      if (current && seq === undefined && !isNewer(current.agent, agent)) return { outcome: 'duplicate' };
      const keep = current !== undefined && !isNewer(current.agent, agent);
      const entry: MirrorEntry = { agent: keep ? current.agent : agent, instanceId, lastSeq: seq ?? current?.lastSeq ?? 0 };
      await store(tx, entry);
      // The event log gets the transition as it happened, even when the mirror already shows a later state.
      // PublicAgent has no env; the log stores agent records, which EventFeed shows through publicAgent() anyway.
      const event = await new SqlEventStore(narrowed<CoreTables, FederationTables>(tx)).appendRaw(type, agent.id, view as AgentRecord);
      return { outcome: 'applied', entry, event };
    });
  }

  /**
   * Records that this instance landed the agent's work (fetched from its
   * peer) with an `agent.landed` event, in one transaction. Only a finished
   * agent is landed, and a finished agent's mirrored view is final (see
   * isNewer), so no later answer from the peer takes the mark away.
   */
  markLanded(agentId: string, landed: AgentLanding, view: (entry: MirrorEntry) => PublicAgent): Promise<{ entry: MirrorEntry; event: AgentEvent } | undefined> {
    return atomic(this.ctx, async (tx) => {
      const current = await getEntry(tx, agentId, true);
      if (!current) return undefined;
      const entry: MirrorEntry = { ...current, agent: { ...current.agent, landed } };
      await store(tx, entry);
      const event = await new SqlEventStore(narrowed<CoreTables, FederationTables>(tx)).appendRaw('agent.landed', agentId, view(entry) as AgentRecord);
      return { entry, event };
    });
  }

  async remove(agentId: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('federation_mirror').where('agent_id', '=', agentId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

/** The entry, locked until the transaction ends on PostgreSQL when `lock` (SQLite's IMMEDIATE transaction holds the database). */
async function getEntry(ctx: Ctx, agentId: string, lock: boolean): Promise<MirrorEntry | undefined> {
  const row = await ctx.db.selectFrom('federation_mirror').select(['instance_id', 'data', 'last_seq']).where('agent_id', '=', agentId)
    .$if(lock && ctx.dialect === 'postgres', (q) => q.forUpdate()).executeTakeFirst();
  return row && toEntry(row);
}

async function store(ctx: Ctx, entry: MirrorEntry): Promise<void> {
  const { agent } = entry;
  const columns = {
    instance_id: entry.instanceId, state: agent.state, repo: agent.repo, task_id: agent.taskId, origin: agent.origin,
    data: JSON.stringify(agent), last_seq: entry.lastSeq, updated_at: agent.updatedAt,
  };
  await ctx.db.insertInto('federation_mirror').values({ agent_id: agent.id, created_at: ctx.now(), ...columns })
    .onConflict((oc) => oc.column('agent_id').doUpdateSet(columns)).execute();
}
