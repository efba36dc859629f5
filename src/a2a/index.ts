import type { FastifyInstance } from 'fastify';
import type { AgentService, EventBus } from '../agents/index.js';
import type { Logger } from '../core/logger.js';
import type { HostAllowList } from '../http/allowed-hosts.js';
import type { OtherAdminTokens } from '../http/auth.js';
import type { SseLimits } from '../http/sse.js';
import type { SqlStore } from '../store/index.js';
import { buildAgentCard } from './card.js';
import { MosaicA2aHandler } from './handler.js';
import { a2aPlugin, type AdminGuard } from './plugin.js';
import { a2aTokenRoutes } from './tokens/routes.js';
import { A2aTokens } from './tokens/service.js';
import { SqlA2aTokenStore } from './tokens/store.js';

export { A2A_MIGRATIONS } from './tokens/migrations.js';
export { A2aTokens, A2A_TOKEN_PREFIX, type A2aTokenView, type CreatedA2aToken } from './tokens/service.js';
export { isA2aOrigin } from './caller.js';

export interface A2aDeps {
  /** This instance's name and the URL clients reach it at (known once the server listens). */
  name: string;
  url: () => string;
  adminToken: string;
  /** A cluster: every node's admin token works here too. */
  otherAdminTokens?: OtherAdminTokens;
  /** The core store, opened with A2A_MIGRATIONS among its migrations. */
  store: SqlStore;
  agents: AgentService;
  bus: EventBus;
  hosts: HostAllowList;
  sse?: SseLimits;
  logger?: Logger;
}

export interface A2a {
  tokens: A2aTokens;
  /** The agent card and `POST /a2a`, at the root. */
  plugin(app: FastifyInstance): Promise<void>;
  /** `/a2a/tokens` under /api/v1, behind the admin guard. */
  adminPlugin(app: FastifyInstance, adminGuard: AdminGuard): Promise<void>;
}

/** The A2A endpoint (issue 19): an adapter over the agent service, with its client tokens. */
export function createA2a(deps: A2aDeps): A2a {
  const tokens = new A2aTokens(new SqlA2aTokenStore(deps.store));
  const handler = new MosaicA2aHandler({
    agents: deps.agents, store: deps.store, bus: deps.bus, card: () => buildAgentCard({ name: deps.name, url: deps.url }),
  });
  return {
    tokens,
    plugin: (app) => a2aPlugin(app, { handler, tokens, adminToken: deps.adminToken, ...(deps.otherAdminTokens ? { otherAdminTokens: deps.otherAdminTokens } : {}), hosts: deps.hosts, ...(deps.sse ? { sse: deps.sse } : {}), ...(deps.logger ? { logger: deps.logger } : {}) }),
    async adminPlugin(app, adminGuard) {
      app.addHook('onRequest', adminGuard);
      await a2aTokenRoutes(app, { tokens });
    },
  };
}
