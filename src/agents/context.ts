import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { WorktreeManager } from '../git/index.js';
import type { RepoRemotes } from '../repos/remotes.js';
import type { Store } from '../store/types.js';
import type { EventBus } from './event-bus.js';
import type { QueueGate } from './gate.js';
import { OUTPUT_LOG } from './supervisor/index.js';
import type { NodePlacement } from './placement.js';
import type { AgentRecorder } from './recorder.js';

/** What the agent modules share; built once by the service. */
export interface AgentContext {
  config: Config;
  store: Store;
  git: WorktreeManager;
  bus: EventBus;
  recorder: AgentRecorder;
  logger: Logger;
  /** Repositories shared by URL: this node's clones, fetches and pushes (no-ops for a repository at a local path). */
  remotes: RepoRemotes;
  /** Cluster only: this node's placement (set once at start by src/cluster); absent on a single machine. */
  placement?: NodePlacement;
  /** Fleet governance, when the instance has it (set once, before agents start; see gate.ts). */
  gate?: QueueGate;
}

/** `$MOSAIC_HOME/agents/<id>`: the supervisor's files and the agent's output. */
export function agentDir(config: Config, agentId: string): string {
  return join(config.home, 'agents', agentId);
}

export function agentLogPath(config: Config, agentId: string): string {
  return join(agentDir(config, agentId), OUTPUT_LOG);
}
