import type { AgentRecord } from './types.js';

/** The agent as the API shows it: the spawn env may hold secrets and stays inside. */
export type PublicAgent = Omit<AgentRecord, 'env'> & {
  /** For an agent running on another instance: that instance's id and the connection name. */
  instance?: string;
  peer?: string;
};

export function publicAgent(agent: AgentRecord | PublicAgent): PublicAgent {
  if (!('env' in agent)) return agent;
  const { env: _env, ...rest } = agent;
  return rest;
}
