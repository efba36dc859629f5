import type { LogPage } from './logs.js';
import type { QueuedAgent, QueueSkip } from '../store/types.js';
import type { AgentRecord, AgentWaiting } from './types.js';

/** What only the node running an agent can answer or do (its log, worktree and processes are there). */
export interface RemoteAgentReads {
  logs(after: number, limit: number, wait: { waitMs?: number; signal?: AbortSignal }): Promise<LogPage & { ended: boolean }>;
  diff(): Promise<string>;
  /** Signals the agent on its node now (it is marked killRequested already: that node's monitor is the fallback). */
  kill(): Promise<void>;
}

/** A spawn this node took from the cluster's queue; `settle()` once the take was tried (won or lost). */
export interface TakenWork {
  agentId: string;
  settle(): Promise<void>;
}

/** Why the cluster cannot place a queued agent now (no up node can serve it), as a snapshot per scheduler pass. */
export interface PlacementHolds {
  /** Changes exactly when what is held changes (the scheduler re-marks the whole queue then). */
  signature: string;
  waitingFor(agent: QueuedAgent): AgentWaiting | null;
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
  /**
   * Throws when this spawn may not be pinned to `node` (404 unknown_node,
   * 409 node_draining / node_lost / node_cannot_serve: it lacks the runtime or the repository).
   */
  checkPin(node: string, needs: { runtime: string; repo: string }): Promise<void>;
  /** A queued agent was recorded: hand it to the cluster's queue (an agent pinned to a node waits for that node). */
  queued(agent: AgentRecord): Promise<void>;
  /** The next spawn from the cluster's queue that this node can serve and `skip` (fleet governance) does not hold; undefined when none waits. */
  take(skip?: QueueSkip): Promise<TakenWork | undefined>;
  /** Queued agents no up node can serve (`waitingFor: {reason: no_capable_node}`). */
  holds(): Promise<PlacementHolds>;
  /** For an agent on another node: its reads, forwarded there; undefined when it runs (or ran) here. */
  remote(agent: AgentRecord): RemoteAgentReads | undefined;
}
