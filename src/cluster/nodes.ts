import { sql, type Selectable } from '../store/kysely.js';
import { conflict, notFound } from '../core/errors.js';
import type { SqlContext } from '../store/index.js';
import { parseCapabilities, type NodeCapabilities } from './capabilities.js';
import type { ClusterTables } from './schema.js';

export type { NodeCapabilities } from './capabilities.js';

export type NodeState = 'up' | 'draining' | 'lost';

/** A node as `GET /api/v1/cluster` shows it. */
export interface NodeView {
  name: string;
  /** Its internal URL (MOSAIC_NODE_URL): where other nodes forward requests for its agents. */
  url: string;
  /** `lost`: its lease ran out (whether or not another node has ended its agents yet). */
  state: NodeState;
  capacity: number;
  running: number;
  heartbeatAt: number;
  version: string;
}

/** A node's lease as the node itself holds it: writes of agent state carry it (see fence.ts). */
export interface NodeLease {
  name: string;
  epoch: number;
}

type NodeRow = Selectable<ClusterTables['cluster_nodes']>;

/** The database's clock in ms: leases are judged on one clock, whatever the nodes' clocks say. */
export const DB_NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

function stateOf(row: NodeRow, now: number): NodeState {
  if (row.lost_at !== null || row.lease_until < now) return 'lost';
  return row.draining === 1 ? 'draining' : 'up';
}

function view(row: NodeRow, now: number): NodeView {
  return {
    name: row.name, url: row.url, state: stateOf(row, now), capacity: row.capacity, running: row.running,
    heartbeatAt: row.heartbeat_at, version: row.version,
  };
}

/**
 * The `cluster_nodes` table: who is in the cluster, where each node is
 * reached, and its lease. PostgreSQL only (a cluster shares one database).
 */
export class NodeRegistry {
  constructor(private readonly ctx: SqlContext<ClusterTables>) {}

  private async dbNow(): Promise<number> {
    const { rows } = await sql<{ now: number }>`SELECT ${DB_NOW_MS} AS now`.execute(this.ctx.db);
    return Number(rows[0]?.now);
  }

  /** Every node that ever joined, by name. */
  async list(): Promise<NodeView[]> {
    const [rows, now] = await Promise.all([
      this.ctx.db.selectFrom('cluster_nodes').selectAll().orderBy('name').execute(),
      this.dbNow(),
    ]);
    return rows.map((row) => view(row, now));
  }

  async get(name: string): Promise<NodeView | undefined> {
    const [row, now] = await Promise.all([
      this.ctx.db.selectFrom('cluster_nodes').selectAll().where('name', '=', name).executeTakeFirst(),
      this.dbNow(),
    ]);
    return row === undefined ? undefined : view(row, now);
  }

  /** A node's internal URL: 404 `unknown_node`, or 409 `node_lost` when its lease ran out (nothing answers there). */
  async urlOf(name: string): Promise<string> {
    const node = await this.get(name);
    if (node === undefined) throw notFound('unknown_node', `no node '${name}' in this cluster`);
    if (node.state === 'lost') throw conflict('node_lost', `node '${name}' is lost (no heartbeat within its lease)`, { node: name });
    return node.url;
  }

  async capabilities(name: string): Promise<NodeCapabilities | undefined> {
    const row = await this.ctx.db.selectFrom('cluster_nodes').select('capabilities').where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : parseCapabilities(row.capabilities);
  }

  /** What each node that is up (holds its lease, not draining) can serve, as it last published it. */
  async upCapabilities(): Promise<{ name: string; capabilities: NodeCapabilities }[]> {
    const [rows, now] = await Promise.all([this.ctx.db.selectFrom('cluster_nodes').selectAll().orderBy('name').execute(), this.dbNow()]);
    return rows.filter((row) => stateOf(row, now) === 'up').map((row) => ({ name: row.name, capabilities: parseCapabilities(row.capabilities) }));
  }

  /**
   * Joins (or rejoins) as `name`: a new epoch, a fresh lease, not lost. The
   * draining flag survives a restart (an admin's decision, not the process's).
   */
  async join(node: { name: string; url: string; capacity: number; version: string; capabilities: NodeCapabilities; leaseMs: number }): Promise<NodeLease> {
    const caps = JSON.stringify(node.capabilities);
    const { rows } = await sql<{ epoch: number }>`
      INSERT INTO cluster_nodes (name, url, epoch, capacity, running, draining, lease_until, heartbeat_at, lost_at, version, capabilities, joined_at)
      VALUES (${node.name}, ${node.url}, 1, ${node.capacity}, 0, 0, ${DB_NOW_MS} + ${node.leaseMs}, ${DB_NOW_MS}, NULL, ${node.version}, ${caps}, ${DB_NOW_MS})
      ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, epoch = cluster_nodes.epoch + 1, capacity = EXCLUDED.capacity,
        running = 0, lease_until = EXCLUDED.lease_until, heartbeat_at = EXCLUDED.heartbeat_at, lost_at = NULL,
        version = EXCLUDED.version, capabilities = EXCLUDED.capabilities, joined_at = EXCLUDED.joined_at
      RETURNING epoch`.execute(this.ctx.db);
    return { name: node.name, epoch: Number(rows[0]?.epoch) };
  }

  /**
   * Extends the lease, only while it is still ours (same epoch, not declared
   * lost). False: the lease is gone and the node must fence itself.
   */
  async renew(lease: NodeLease, running: number, capabilities: NodeCapabilities, leaseMs: number): Promise<boolean> {
    const result = await sql`
      UPDATE cluster_nodes SET lease_until = ${DB_NOW_MS} + ${leaseMs}, heartbeat_at = ${DB_NOW_MS}, running = ${running},
        capabilities = ${JSON.stringify(capabilities)}
      WHERE name = ${lease.name} AND epoch = ${lease.epoch} AND lost_at IS NULL`.execute(this.ctx.db);
    return Number(result.numAffectedRows ?? 0) === 1;
  }

  /** Drain (true) or undrain; false when no such node. */
  async setDraining(name: string, draining: boolean): Promise<boolean> {
    const result = await this.ctx.db.updateTable('cluster_nodes').set({ draining: draining ? 1 : 0 }).where('name', '=', name).executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /**
   * Declares lost every node whose lease ran out and that nobody declared
   * yet; returns them with the epoch they held (its agents are to be ended).
   * One statement: of several nodes sweeping at once, one declares each.
   */
  async declareExpired(): Promise<NodeLease[]> {
    const { rows } = await sql<{ name: string; epoch: number }>`
      UPDATE cluster_nodes SET lost_at = ${DB_NOW_MS}
      WHERE lost_at IS NULL AND lease_until < ${DB_NOW_MS}
      RETURNING name, epoch`.execute(this.ctx.db);
    return rows.map((r) => ({ name: r.name, epoch: Number(r.epoch) }));
  }

  /** Nodes declared lost whose agents may still need ending (a sweeper that died half-way). */
  async lostNames(): Promise<string[]> {
    const rows = await this.ctx.db.selectFrom('cluster_nodes').select('name').where('lost_at', 'is not', null).execute();
    return rows.map((r) => r.name);
  }
}
