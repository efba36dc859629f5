import { TERMINAL_STATES, type AgentLanding, type PublicAgent } from '../../agents/index.js';
import type { AgentFilter } from '../../store/index.js';
import type { FederationContext } from '../context.js';
import { ProtocolError, type EventName } from '../protocol/index.js';
import type { ConnectionRecord, MirrorEntry } from '../store/index.js';
import { changedFixedFields, peerMisreported } from './names.js';
import { isGone } from './peer-agents.js';

/**
 * The hub's view of agents it spawned on peers: kept from command answers
 * and from the events peers push, so listing them never calls a peer.
 */
export class RemoteMirror {
  /** Spawns sent to each peer whose answer is not recorded yet: their first events may come before the answer. */
  private readonly inFlight = new Map<string, Set<Promise<unknown>>>();

  constructor(private readonly ctx: FederationContext) {}

  /** Runs a spawn sent to `instanceId`; events about the agent it makes wait for it instead of being refused. */
  async spawning<T>(instanceId: string, run: () => Promise<T>): Promise<T> {
    const promise = run();
    const set = this.inFlight.get(instanceId) ?? new Set();
    this.inFlight.set(instanceId, set);
    set.add(promise);
    try {
      return await promise;
    } finally {
      set.delete(promise);
      if (set.size === 0) this.inFlight.delete(instanceId);
    }
  }

  /** The agent as the API shows it: with the instance running it and the connection's current name. */
  async view(entry: MirrorEntry): Promise<PublicAgent> {
    return this.viewOf(entry, await this.ctx.store.connections.byInstance(entry.instanceId));
  }

  private viewOf(entry: MirrorEntry, conn: ConnectionRecord | undefined): PublicAgent {
    return { ...entry.agent, instance: entry.instanceId, ...(conn?.name ? { peer: conn.name } : {}) };
  }

  /**
   * The view with how current it is: `peerContact` (when the peer was last
   * heard from, since when it cannot be reached) and `stale` for an agent
   * that is not finished while its peer is unreachable or silent for longer
   * than MOSAIC_FED_STALE_S (a finished agent's state never changes), and
   * `orphaned` (stale too) for one whose peer is disconnected: no event
   * about it will be accepted again.
   */
  async freshView(entry: MirrorEntry): Promise<PublicAgent> {
    const conn = await this.ctx.store.connections.byInstance(entry.instanceId);
    return this.fresh(this.viewOf(entry, conn), entry.instanceId, conn);
  }

  private fresh(view: PublicAgent, instanceId: string, conn: ConnectionRecord | undefined): PublicAgent {
    const unfinished = !TERMINAL_STATES.includes(view.state);
    const orphaned = unfinished && isGone(conn);
    const stale = orphaned || (unfinished && this.ctx.contacts.isStale(instanceId, this.ctx.config.fedStaleS * 1000));
    return { ...view, stale, ...(orphaned ? { orphaned } : {}), peerContact: this.ctx.contacts.get(instanceId) };
  }

  get(agentId: string): Promise<MirrorEntry | undefined> {
    return this.ctx.store.mirror.get(agentId);
  }

  /** The mirrored agents matching `filter`, each with its peer's current name (read once for the whole list). */
  async list(filter: AgentFilter & { instanceId?: string } = {}): Promise<PublicAgent[]> {
    const entries = await this.ctx.store.mirror.list(filter);
    if (entries.length === 0) return [];
    const conns = new Map((await this.ctx.store.connections.list()).map((c) => [c.instanceId, c]));
    return entries.map((e) => this.fresh(this.viewOf(e, conns.get(e.instanceId)), e.instanceId, conns.get(e.instanceId)));
  }

  /** Keeps what a peer answered about one of our agents there, unless a later view is already held. */
  async record(instanceId: string, agent: PublicAgent): Promise<PublicAgent> {
    this.checkOrigin(agent);
    await this.checkIdentity(agent);
    const changed = await this.changedFixed(agent);
    if (changed.length > 0) throw peerMisreported(`the peer reported agent '${agent.id}' with other ${changed.join(', ')} than it was spawned with`, { agentId: agent.id, fields: changed });
    const written = await this.ctx.store.mirror.write(instanceId, agent);
    if (written.outcome === 'foreign') throw conflictWithOther(agent.id);
    return this.view(written.entry);
  }

  /**
   * A pushed `agent.state` or `agent.progress`: applied once per event seq, in order, appended
   * to this instance's event log and published, so `/events` carries it.
   */
  async applyEvent(type: EventName, peer: ConnectionRecord, agent: PublicAgent, seq: number | undefined): Promise<{ applied: boolean }> {
    this.checkOrigin(agent);
    await this.checkIdentity(agent);
    await this.checkSpawnedThere(peer.instanceId, agent.id);
    const changed = await this.changedFixed(agent);
    if (changed.length > 0) {
      throw new ProtocolError(400, 'peer_misreported', `agent '${agent.id}' was spawned with other ${changed.join(', ')}`, { agentId: agent.id, fields: changed });
    }
    const view = this.viewOf({ agent, instanceId: peer.instanceId, lastSeq: 0 }, peer);
    const result = await this.ctx.store.mirror.applyEvent(type, peer.instanceId, agent, seq, view);
    if (result.outcome === 'foreign') throw conflictWithOther(agent.id);
    if (result.outcome === 'duplicate') return { applied: false };
    this.ctx.bus.publish(result.event);
    return { applied: true };
  }

  /** This instance landed the agent's work: the mark is kept with the agent and told to `/events` readers. */
  async landed(agentId: string, landing: AgentLanding): Promise<PublicAgent | undefined> {
    const entry = await this.ctx.store.mirror.get(agentId);
    if (!entry) return undefined;
    const peer = await this.ctx.store.connections.byInstance(entry.instanceId);
    const written = await this.ctx.store.mirror.markLanded(agentId, landing, (e) => this.viewOf(e, peer));
    if (!written) return undefined;
    this.ctx.bus.publish(written.event);
    return this.fresh(this.viewOf(written.entry, peer), written.entry.instanceId, peer);
  }

  /** Task, repository and branch names are fixed at spawn (see names.ts): a peer cannot rename the work later. */
  private async changedFixed(agent: PublicAgent): Promise<string[]> {
    const current = await this.ctx.store.mirror.get(agent.id);
    return current ? changedFixedFields(current.agent, agent) : [];
  }

  /** Only agents this instance spawned are mirrored: a peer cannot plant others in our lists. */
  private checkOrigin(agent: PublicAgent): void {
    if (agent.origin !== this.ctx.identity.instanceId) {
      throw new ProtocolError(403, 'agent_not_owned', `agent '${agent.id}' was not spawned by this instance`, { agentId: agent.id });
    }
  }

  /**
   * Only agents this instance spawned on that very peer are mirrored: the
   * mirror entry is written from the spawn's answer. An event may overtake
   * that answer, so it waits for this instance's spawns to that peer still
   * in flight; an agent unknown after them was never spawned there.
   */
  private async checkSpawnedThere(instanceId: string, agentId: string): Promise<void> {
    if (await this.ctx.store.mirror.get(agentId)) return;
    const pending = [...(this.inFlight.get(instanceId) ?? [])];
    if (pending.length > 0) {
      const limitMs = this.ctx.config.fedTimeoutMs * (this.ctx.config.fedRetries + 2);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(pending),
        new Promise((resolve) => { timer = setTimeout(resolve, limitMs); }),
      ]);
      clearTimeout(timer);
    }
    if (!(await this.ctx.store.mirror.get(agentId))) {
      throw new ProtocolError(403, 'agent_not_owned', `agent '${agentId}' was not spawned by this instance on that peer`, { agentId });
    }
  }

  /** A peer's agent may not take the id of an agent running here: the API addresses agents by id alone. */
  private async checkIdentity(agent: PublicAgent): Promise<void> {
    if (await this.ctx.core.agents.get(agent.id)) throw conflictWithOther(agent.id);
  }
}

function conflictWithOther(id: string): ProtocolError {
  return new ProtocolError(409, 'agent_conflict', `agent id '${id}' is already used by another instance's agent`, { agentId: id });
}
