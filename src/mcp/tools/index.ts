import { discardAgent, getAgent, killAgent, landAgent, listAgents, replyAgent, retryAgent, spawnAgent } from './agents.js';
import { listPeers, listRepos } from './fleet.js';
import { agentDiff, agentLogs, conflictsTool, waitAgentsTool } from './observe.js';
import type { ToolDef } from './types.js';

export type { ToolContext, ToolDef, ToolOutput } from './types.js';
export { WAIT_DEFAULT_S, WAIT_MAX_S } from './observe.js';

/** Every tool, in the order clients list them (the order a model would use them in). */
export const TOOLS: readonly ToolDef[] = [
  listRepos, spawnAgent, waitAgentsTool, listAgents, getAgent, agentLogs, agentDiff, conflictsTool,
  landAgent, replyAgent, retryAgent, killAgent, discardAgent, listPeers,
];
