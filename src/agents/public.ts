import type { AgentRecord } from './types.js';

/** The agent as the API shows it: the spawn env may hold secrets and stays inside. */
export type PublicAgent = Omit<AgentRecord, 'env'> & {
  /** For an agent running on another instance: that instance's id and the connection name. */
  instance?: string;
  peer?: string;
  /** A remote agent not finished whose peer is unreachable or silent: its state here may be out of date. */
  stale?: boolean;
  /**
   * A remote agent not finished whose peer is disconnected: its state here
   * will not change again and nothing from here reaches it (also `stale`).
   */
  orphaned?: boolean;
  /** A remote agent's peer: when it was last heard from, since when it cannot be reached (ms, null when not). */
  peerContact?: { lastContactAt: number | null; unreachableSince: number | null; error: string | null };
};

export function publicAgent(agent: AgentRecord | PublicAgent): PublicAgent {
  if (!('env' in agent)) return agent;
  const { env: _env, ...rest } = agent;
  return rest;
}
