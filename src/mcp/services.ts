import type { AgentApi, ConflictWatcher, EventBus } from '../agents/index.js';
import type { RepoService } from '../repos/index.js';

/**
 * What the MCP tools call: the same services the HTTP routes use (the
 * federated AgentApi, so `peer` spawns and remote agents work the same), never
 * HTTP calls to this server itself.
 */
export interface McpServices {
  agents: AgentApi;
  repos: Pick<RepoService, 'list'>;
  conflicts: Pick<ConflictWatcher, 'report'>;
  /** Agent transitions (local and mirrored remote agents): what `wait_agents` wakes on. */
  bus: Pick<EventBus, 'subscribe'>;
  /** The federation connections, as `GET /api/v1/federation/connections` lists them. */
  peers(): Promise<unknown[]>;
}
