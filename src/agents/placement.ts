import type { AgentRecord } from './types.js';

/** A spawn this node took from the cluster's queue; `settle()` once the take was tried (won or lost). */
export interface TakenWork {
  agentId: string;
  settle(): Promise<void>;
}

/**
 * How a node of a cluster places agents (src/cluster implements it; a single
 * machine has none). The scheduler counts only this node's agents, takes
 * work from the cluster's queue, and records this node on the agents it starts.
 */
export interface NodePlacement {
  /** This node's name: agents it starts carry it (`node`). */
  readonly node: string;
  /** Whether this node takes new agents now (it holds its lease and is not draining). */
  accepting(): boolean;
  /** Throws when an agent may not be pinned to `node` (404 unknown_node, 409 node_draining / node_lost). */
  checkPin(node: string): Promise<void>;
  /** A queued agent was recorded: hand it to the cluster's queue (an agent pinned to a node waits for that node). */
  queued(agent: AgentRecord): Promise<void>;
  /** The next spawn from the cluster's queue, or undefined when none waits. */
  take(): Promise<TakenWork | undefined>;
}
