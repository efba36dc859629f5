import { sql } from '../store/kysely.js';
import type { AgentService } from '../agents/index.js';
import type { NodePlacement, PlacementHolds, RemoteAgentReads, TakenWork } from '../agents/placement.js';
import type { AgentRecord } from '../core/agent-model.js';
import { conflict, messageOf, notFound } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import type { SqlContext } from '../store/index.js';
import type { QueueSkip } from '../store/types.js';
import { cannotServe, needsOf, type NodeCapabilities, type SpawnNeeds } from './capabilities.js';
import { LeaseFence } from './fence.js';
import { forwardedReads } from './forward.js';
import type { NodeAuth } from './node-auth.js';
import { NodeRegistry, type NodeLease } from './nodes.js';
import type { SpawnQueue } from './queue.js';
import type { ClusterTables } from './schema.js';

export interface ClusterNodeOptions {
  ctx: SqlContext<ClusterTables>;
  auth: NodeAuth;
  name: string;
  capacity: number;
  leaseMs: number;
  queue: SpawnQueue;
  logger: Logger;
  /** What this node can serve now (looked at on this machine: runtime binaries, repository paths). */
  capabilities(): Promise<NodeCapabilities>;
}

const ACTIVE = ['spawning', 'running'] as const;
/** How long this node's own look at what it serves is reused by its takes (the heartbeat looks again anyway). */
const CAPS_TTL_MS = 1000;

/**
 * This server as a node of a cluster: its lease (join, heartbeat, self-fence
 * when it cannot renew, rejoin when it finds its lease gone), the placement
 * the scheduler uses (the pg-boss queue, pins, draining), and the sweep that
 * ends the agents of nodes found lost.
 */
export class ClusterNode implements NodePlacement {
  readonly node: string;
  readonly registry: NodeRegistry;
  readonly fence: LeaseFence;
  private agents: AgentService | undefined;
  private url = '';
  private draining = false;
  private holding = false;
  private lastRenew = 0;
  private fencing = false;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private heartbeating = false;
  private caps: { at: number; value: NodeCapabilities } | undefined;

  constructor(private readonly opts: ClusterNodeOptions) {
    this.node = opts.name;
    this.registry = new NodeRegistry(opts.ctx);
    this.fence = new LeaseFence(opts.name);
  }

  // ---- NodePlacement (what the scheduler and spawn use) ----

  accepting(): boolean {
    return this.holding && !this.draining && !this.stopped;
  }

  async checkPin(node: string, needs: SpawnNeeds): Promise<void> {
    const view = await this.registry.get(node);
    if (view === undefined) throw notFound('unknown_node', `no node '${node}' in this cluster`);
    if (view.state === 'lost') throw conflict('node_lost', `node '${node}' is lost (no heartbeat within its lease)`, { node });
    if (view.state === 'draining') throw conflict('node_draining', `node '${node}' is draining: it takes no new agents`, { node });
    // This node looks now; another node's last published look is what there is (a repository it has not looked at yet passes).
    const caps = node === this.node ? await this.capabilities(true) : await this.registry.capabilities(node);
    if (caps !== undefined && cannotServe(caps, needs)) {
      const lacks = caps.runtimes.includes(needs.runtime) ? `repository '${needs.repo}' (its path is not a git repository there)` : `the ${needs.runtime} runtime's binary`;
      throw conflict('node_cannot_serve', `node '${node}' cannot serve this spawn: it lacks ${lacks}`, { node, ...needs });
    }
  }

  async queued(agent: AgentRecord): Promise<void> {
    // An agent pinned to a node waits for that node (its scheduler looks for its pinned agents first).
    if (agent.node !== null && agent.node !== undefined) return;
    await this.opts.queue.send({ id: agent.id, priority: agent.priority, runtime: agent.runtime.kind, repo: agent.repo, origin: agent.origin });
  }

  async take(skip?: QueueSkip): Promise<TakenWork | undefined> {
    // A drain takes effect at once, not at the next heartbeat: asked on any node, it is read here before each take.
    const me = await this.opts.ctx.db.selectFrom('cluster_nodes').select('draining').where('name', '=', this.node).executeTakeFirst();
    this.draining = me?.draining === 1;
    if (!this.accepting()) return undefined;
    const caps = await this.capabilities();
    return this.opts.queue.take({ runtimes: caps.runtimes, repos: caps.repos, ...(skip ? { skip } : {}) });
  }

  async holds(): Promise<PlacementHolds> {
    const up = await this.registry.upCapabilities();
    return {
      signature: JSON.stringify(up),
      waitingFor(agent) {
        const needs = needsOf(agent);
        // Every up node said it cannot: it waits for one that can (a node not up yet, a binary installed, a path restored).
        if (up.length === 0 || !up.every((n) => cannotServe(n.capabilities, needs))) return null;
        return { reason: 'no_capable_node', runtime: needs.runtime, repo: needs.repo };
      },
    };
  }

  /** What this node serves, looked at again when older than CAPS_TTL_MS (or when `fresh`). */
  private async capabilities(fresh = false): Promise<NodeCapabilities> {
    if (!fresh && this.caps !== undefined && Date.now() - this.caps.at < CAPS_TTL_MS) return this.caps.value;
    const value = await this.opts.capabilities();
    this.caps = { at: Date.now(), value };
    return value;
  }

  remote(agent: AgentRecord): RemoteAgentReads | undefined {
    if (agent.node === null || agent.node === undefined || agent.node === this.node) return undefined;
    // Queued (pinned, not started): nothing on its node yet; the local answers (empty log, empty diff) hold.
    if (agent.state === 'queued') return undefined;
    return forwardedReads(this.registry, this.opts.auth, agent.node, agent.id);
  }

  // ---- the lease ----

  /**
   * Joins the cluster (before the agents start: their writes need the lease).
   * A node that comes back after being declared lost first ends what it
   * still runs of its old epochs; a node restarted within its lease keeps
   * its agents (they run on under their supervisors) under the new epoch.
   */
  async join(agents: AgentService, url: string): Promise<NodeLease> {
    this.agents = agents;
    this.url = url;
    const before = await this.registry.get(this.node);
    const lease = await this.registry.join({
      name: this.node, url, capacity: this.opts.capacity, version: VERSION,
      capabilities: await this.capabilities(true), leaseMs: this.opts.leaseMs,
    });
    this.fence.lease = lease;
    this.holding = true;
    this.lastRenew = Date.now();
    this.draining = before?.state === 'draining';
    const db = this.opts.ctx.db;
    if (before !== undefined && before.state === 'lost') {
      await this.endOldEpochs(lease);
    } else {
      // Restarted within the lease: its running agents are still its own.
      await db.updateTable('agents').set({ node_epoch: lease.epoch })
        .where('node', '=', this.node).where('state', 'in', [...ACTIVE]).execute();
    }
    this.opts.logger.info({ node: this.node, epoch: lease.epoch, url }, 'joined the cluster');
    // From now on the lease is kept, however long the rest of the start takes.
    if (!this.heartbeating) {
      this.heartbeating = true;
      this.every(Math.max(100, Math.floor(this.opts.leaseMs / 5)), () => this.heartbeat());
    }
    return lease;
  }

  /** Runs `fn` every `ms` (never two at once) until stop. */
  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.stopped) return;
      busy = true;
      void fn().catch((err: unknown) => this.opts.logger.warn({ err: messageOf(err) }, 'cluster task failed')).finally(() => (busy = false));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Starts the sweep for lost nodes and the look for queued work (the heartbeat runs from the join on). */
  start(url: string): void {
    if (url !== this.url) {
      this.url = url;
      void this.opts.ctx.db.updateTable('cluster_nodes').set({ url }).where('name', '=', this.node).execute()
        .catch((err: unknown) => this.opts.logger.warn({ err: messageOf(err) }, 'could not record the node URL'));
    }
    this.every(Math.max(250, Math.floor(this.opts.leaseMs / 3)), () => this.sweep());
    this.every(250, async () => {
      if (this.accepting()) this.agents?.pump();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private async heartbeat(): Promise<void> {
    const lease = this.fence.lease;
    if (lease === undefined || this.fencing) return;
    let renewed: boolean;
    try {
      const running = await this.opts.ctx.db.selectFrom('agents').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('node', '=', this.node).where('state', 'in', [...ACTIVE]).executeTakeFirst();
      renewed = await this.registry.renew(lease, Number(running?.n ?? 0), await this.capabilities(true), this.opts.leaseMs);
      const me = await this.registry.get(this.node);
      this.draining = me?.state === 'draining';
    } catch (err) {
      // Cannot reach the database: past two thirds of the lease, stop everything before others may call us lost.
      if (Date.now() - this.lastRenew > (this.opts.leaseMs * 2) / 3) await this.selfFence(`cannot renew the lease: ${messageOf(err)}`);
      return;
    }
    if (renewed) {
      this.lastRenew = Date.now();
      return;
    }
    // The lease is gone (declared lost, e.g. after a pause longer than the lease): kill, then rejoin.
    await this.selfFence('the lease was lost');
    this.fencing = true;
    try {
      if (this.agents !== undefined && !this.stopped) await this.join(this.agents, this.url);
    } finally {
      this.fencing = false;
    }
  }

  /** Ends this node's agents' processes at once and takes no work; writes nothing for them. */
  private async selfFence(why: string): Promise<void> {
    const wasHolding = this.holding;
    this.holding = false;
    if (this.agents === undefined) return;
    let mine: AgentRecord[] = this.agents.runningHere();
    try {
      mine = await this.opts.ctx.db.selectFrom('agents').select('id').where('node', '=', this.node).where('state', 'in', [...ACTIVE]).execute()
        .then((rows) => Promise.all(rows.map((r) => this.agents!.get(r.id))));
    } catch {
      // The database is out of reach: the monitor's last view is what there is.
    }
    if (wasHolding || mine.length > 0) this.opts.logger.error({ node: this.node, agents: mine.map((a) => a.id), why }, 'node fenced: killing its agents');
    this.agents.fenceKill(mine);
  }

  /** After a loss: this node's agents of older epochs are killed here; any still recorded active end node_lost. */
  private async endOldEpochs(lease: NodeLease): Promise<void> {
    const rows = await this.opts.ctx.db.selectFrom('agents').select(['id', 'state'])
      .where('node', '=', this.node).where((eb) => eb.or([eb('node_epoch', '<', lease.epoch), eb('node_epoch', 'is', null)]))
      .where('state', 'in', [...ACTIVE, 'failed']).execute();
    const agents = this.agents;
    if (agents === undefined || rows.length === 0) return;
    const records = (await Promise.all(rows.map((r) => agents.get(r.id).catch(() => undefined))))
      .filter((a): a is AgentRecord => a !== undefined && (a.state !== 'failed' || a.error?.code === 'node_lost'));
    agents.fenceKill(records);
    for (const agent of records.filter((a) => a.state !== 'failed')) await agents.endNodeLost(agent.id, this.node);
  }

  /** Declares nodes past their lease lost (one node does it for each) and ends their agents. */
  private async sweep(): Promise<void> {
    if (!this.holding || this.agents === undefined) return;
    const declared = await this.registry.declareExpired();
    for (const lost of declared) this.opts.logger.warn({ node: lost.name, epoch: lost.epoch }, 'node lost: ending its agents');
    // Also the agents of nodes declared lost earlier whose sweeper died half-way.
    const { rows } = await sql<{ id: string; node: string }>`
      SELECT a.id, a.node FROM agents a JOIN cluster_nodes n ON n.name = a.node
      WHERE n.lost_at IS NOT NULL AND a.state IN ('spawning', 'running') AND (a.node_epoch IS NULL OR a.node_epoch <= n.epoch)
      ORDER BY a.created_at`.execute(this.opts.ctx.db);
    for (const row of rows) {
      const ended = await this.agents.endNodeLost(row.id, row.node);
      if (ended?.retry) this.opts.logger.info({ agentId: row.id, retry: ended.retry.id }, 'agent of a lost node queued again');
    }
  }
}
