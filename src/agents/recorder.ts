import type { Logger } from '../core/logger.js';
import type { AgentPatch, Store } from '../store/types.js';
import type { EventBus } from './event-bus.js';
import type { AgentRecord, AgentState } from './types.js';

/**
 * The only writer of agent states: each transition is one store write (which
 * appends its event in the same transaction) followed by one publish, so the
 * stored event log and the live stream never disagree.
 */
export class AgentRecorder {
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
    return moved.agent;
  }
}
