import type { LogPage } from './logs.js';
import type { AgentRecord } from './types.js';

/** Reads only the node running an agent can answer (its log and worktree are there). */
export interface RemoteAgentReads {
  logs(after: number, limit: number, wait: { waitMs?: number; signal?: AbortSignal }): Promise<LogPage & { ended: boolean }>;
  diff(): Promise<string>;
}

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
  /** For an agent on another node: its reads, forwarded there; undefined when it runs (or ran) here. */
  remote(agent: AgentRecord): RemoteAgentReads | undefined;
}
