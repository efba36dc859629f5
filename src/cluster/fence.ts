import { sql } from '../store/kysely.js';
import type { AgentRecord, AgentState } from '../core/agent-model.js';
import { MosaicError } from '../core/errors.js';
import { atomic, SqlAgentStore, type SqlContext, type SqlStore } from '../store/index.js';
import type { AgentFilter, AgentPatch, AgentStore, QueueSkip, Store, StoreTables } from '../store/types.js';
import { DB_NOW_MS, type NodeLease } from './nodes.js';
import type { ClusterTables } from './schema.js';

/** 503: this node's lease is gone (or not yet held): it writes nothing for agents until it rejoins. */
export function fenced(node: string): MosaicError {
  return new MosaicError(503, 'node_fenced', `node '${node}' does not hold its cluster lease now; it writes no agent state until it rejoins`);
}

/**
 * The lease a node's writes carry. Every agent write of a node runs in one
 * transaction with a check that the node still holds its lease at the epoch
 * it joined with (row locked FOR SHARE, so a concurrent declaration of loss
 * waits for the write, and a write after it is refused).
 */
export class LeaseFence {
  lease: NodeLease | undefined;

  constructor(readonly node: string) {}

  async check(tx: SqlContext<ClusterTables>): Promise<NodeLease> {
    const lease = this.lease;
    if (lease === undefined) throw fenced(this.node);
    const { rows } = await sql<{ epoch: number }>`
      SELECT epoch FROM cluster_nodes
      WHERE name = ${lease.name} AND epoch = ${lease.epoch} AND lost_at IS NULL AND lease_until > ${DB_NOW_MS}
      FOR SHARE`.execute(tx.db);
    if (rows.length !== 1) throw fenced(this.node);
    return lease;
  }
}

/**
 * The agents table as a node writes it: each write fenced by the node's
 * lease; an agent this node takes (`node` set to it) records the epoch it
 * took it under. Reads are the store's.
 */
class FencedAgents implements AgentStore {
  constructor(private readonly store: SqlStore, private readonly fence: LeaseFence) {}

  private write<T>(fn: (agents: SqlAgentStore, tx: SqlContext<ClusterTables>) => Promise<T>): Promise<T> {
    return atomic(this.store.sql, async (tx) => {
      const ctx = tx as unknown as SqlContext<ClusterTables>;
      await this.fence.check(ctx);
      return fn(new SqlAgentStore(tx), ctx);
    });
  }

  private async stampEpoch(tx: SqlContext<ClusterTables>, id: string): Promise<void> {
    const lease = this.fence.lease;
    if (lease !== undefined) await tx.db.updateTable('agents').set({ node_epoch: lease.epoch }).where('id', '=', id).execute();
  }

  insert(agent: AgentRecord) {
    return this.write(async (agents, tx) => {
      const result = await agents.insert(agent);
      if (result.created && agent.node === this.fence.node) await this.stampEpoch(tx, result.agent.id);
      return result;
    });
  }

  transition(id: string, from: readonly AgentState[], to: AgentState, patch?: AgentPatch) {
    return this.write(async (agents, tx) => {
      const moved = await agents.transition(id, from, to, patch);
      if (moved && patch?.node === this.fence.node) await this.stampEpoch(tx, id);
      return moved;
    });
  }

  update(id: string, patch: AgentPatch) {
    return this.write((agents) => agents.update(id, patch));
  }

  updateWithEvent(id: string, patch: AgentPatch, type: string) {
    return this.write((agents) => agents.updateWithEvent(id, patch, type));
  }

  remove(id: string) {
    return this.write((agents) => agents.remove(id));
  }

  get(id: string) { return this.store.agents.get(id); }
  findByIdempotencyKey(origin: string, key: string) { return this.store.agents.findByIdempotencyKey(origin, key); }
  list(filter?: AgentFilter) { return this.store.agents.list(filter); }
  countByState(state: AgentState | AgentState[]) { return this.store.agents.countByState(state); }
  queued(afterSeq?: number) { return this.store.agents.queued(afterSeq); }
  nextQueued(skip?: QueueSkip) { return this.store.agents.nextQueued(skip); }
  reservedPorts() { return this.store.agents.reservedPorts(); }
}

/** The store as a node's agents see it: agent writes fenced by the node's lease (see LeaseFence). */
export function fencedStore(store: SqlStore, fence: LeaseFence): Store {
  const agents = new FencedAgents(store, fence);
  return {
    repos: store.repos,
    events: store.events,
    agents,
    transaction: <T>(fn: (tx: StoreTables) => Promise<T>): Promise<T> => store.transaction(fn),
    close: () => store.close(),
  };
}
