import type { Logger } from '../core/logger.js';
import type { AgentPatch, Store } from '../store/types.js';
import type { EventBus } from './event-bus.js';
import { SPAWN_PHASES, TIMING_PHASES, type TimingPhase } from '../core/agent-model.js';
import type { AgentRecord, AgentState } from './types.js';

/** Told of phases whose timings were just recorded on an agent of this process (each phase once per agent). */
export type TimingsListener = (agent: AgentRecord, phases: readonly TimingPhase[]) => void;

const ENDED: readonly AgentState[] = ['completed', 'failed', 'killed'];

/**
 * The only writer of agent states: each transition is one store write (which
 * appends its event in the same transaction) followed by one publish, so the
 * stored event log and the live stream never disagree.
 */
export class AgentRecorder {
  private readonly timingsListeners = new Set<TimingsListener>();

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly logger: Logger,
  ) {}

  async insert(agent: AgentRecord): Promise<{ agent: AgentRecord; created: boolean }> {
    const { agent: stored, created, event } = await this.store.agents.insert(agent);
    if (event) this.bus.publish(event);
    return { agent: stored, created };
  }

  /** Compare-and-set move; undefined when the agent was not in one of `from`. */
  async transition(id: string, from: readonly AgentState[], to: AgentState, patch: AgentPatch = {}): Promise<AgentRecord | undefined> {
    const moved = await this.store.agents.transition(id, from, to, { ...patch });
    if (!moved) return undefined;
    this.logger.info({ agentId: id, state: to, error: moved.agent.error ?? undefined }, 'agent transition');
    this.bus.publish(moved.event);
    if (patch.timings) this.tellTimings(moved.agent, to);
    return moved.agent;
  }

  /**
   * Listens to the phases recorded by this process's transitions (metrics):
   * at `running` the spawn phases, at the end the rest (all of them for an
   * agent that never ran). Peers' mirrored agents never pass here.
   */
  onTimings(listener: TimingsListener): () => void {
    this.timingsListeners.add(listener);
    return () => this.timingsListeners.delete(listener);
  }

  private tellTimings(agent: AgentRecord, to: AgentState): void {
    const timings = agent.timings;
    if (!timings || this.timingsListeners.size === 0) return;
    let phases: readonly TimingPhase[];
    if (to === 'running') phases = SPAWN_PHASES;
    else if (ENDED.includes(to)) phases = agent.startedAt === null ? TIMING_PHASES : TIMING_PHASES.filter((p) => !SPAWN_PHASES.includes(p));
    else return;
    const present = phases.filter((p) => typeof timings[p] === 'number');
    for (const listener of this.timingsListeners) {
      try {
        listener(agent, present);
      } catch (err) {
        this.logger.warn({ agentId: agent.id, err: String(err) }, 'timings listener failed');
      }
    }
  }
}
