import Fastify, { type FastifyInstance } from 'fastify';
import type { AgentApi, AgentService, EventFeed } from '../agents/index.js';
import type { Logger } from '../core/logger.js';
import type { RepoService } from '../repos/index.js';
import type { HostAllowList } from './allowed-hosts.js';
import { requireAdmin, type OtherAdminTokens } from './auth.js';
import { DashboardSessions, dashboardPlugin } from './dashboard/index.js';
import { applyConnectionLimits, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.js';
import { installErrorHandling } from './errors.js';
import { healthRoutes } from './health.js';
import { registerOpenApi } from './openapi.js';
import { DebugRequestLog } from './request-log.js';
import type { SseLimits } from './sse.js';
import { AJV_OPTIONS, strictBodies } from './validators.js';
import { errorResponse } from './schemas.js';
import { agentRoutes } from './routes/agents.js';
import { conflictRoutes } from './routes/conflicts.js';
import { eventRoutes } from './routes/events.js';
import { repoRoutes } from './routes/repos.js';
import { statusRoutes, type StatusOptions } from './routes/status.js';
import { worktreeRoutes } from './routes/worktrees.js';

/** Request bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT = 1024 * 1024;

export interface AppDeps {
  logger: Logger;
  instanceId: string;
  adminToken: string;
  /** What GET /api/v1/status names: the store (never its password). */
  store: StatusOptions['store'];
  /** Cluster: the other nodes' admin tokens, also accepted by the bearer guard. */
  otherAdminTokens?: OtherAdminTokens;
  startedAt: number;
  https?: { cert: Buffer; key: Buffer } | undefined;
  agentApi: AgentApi;
  agentService: AgentService;
  repos: RepoService;
  feed: EventFeed;
  /** The host names the dashboard (and /mcp, /a2a) answer to. */
  hosts: HostAllowList;
  /** Dashboard sign-in: how long login codes live (default two minutes); where the built page is. */
  dashboard?: { loginCodeTtlMs?: number; webRoot?: string };
  /** Timeouts and the per-address connection cap (see connection-limits.ts for the defaults). */
  connections?: Partial<ConnectionLimits>;
  /** Bounds on what a slow SSE reader may cost (see sse.ts for the defaults). */
  sse?: SseLimits;
  /** Extra plugins at the root (`/mcp`, `/a2a`, the agent card): each does its own authentication. */
  rootPlugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** `GET /metrics` (Prometheus text): behind the admin guard unless `public`. */
  metrics?: { render(): Promise<{ contentType: string; body: string }>; public: boolean };
  /** Runtimes paused by (or close to) their rate limit, for GET /api/v1/health. */
  limits?: () => Array<{ runtime: string; state: 'paused' | 'warning'; resetsAt: number }>;
  /** Extra plugins (federation) registered under /api/v1, given the admin guard to use. */
  plugins?: ((app: FastifyInstance, adminGuard: ReturnType<typeof requireAdmin>) => Promise<void>)[];
}

/** Composes the HTTP app from feature plugins; holds no business logic. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    logController: new DebugRequestLog(),
    bodyLimit: BODY_LIMIT,
    // Long ids must reach schema validation (400 invalid_id) rather than stop at 414.
    routerOptions: { maxParamLength: 512 },
    // Validation errors must name the field; unknown fields are errors, not silently dropped.
    ajv: { customOptions: { ...AJV_OPTIONS.customOptions } },
    // ...and JSON bodies are never coerced (see validators.ts).
    schemaController: strictBodies,
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance; // the https and http instances share the routing surface used here
  installErrorHandling(app);
  applyConnectionLimits(app, { ...DEFAULT_CONNECTION_LIMITS, ...deps.connections });
  await registerOpenApi(app);

  // One guard for every admin route: the bearer token, or the dashboard's session cookie with its same-origin checks.
  const sessions = new DashboardSessions({ loginCodeTtlMs: deps.dashboard?.loginCodeTtlMs });
  const adminGuard = requireAdmin(deps.adminToken, sessions, deps.hosts, deps.otherAdminTokens);
  await app.register(dashboardPlugin, { adminToken: deps.adminToken, ...(deps.otherAdminTokens ? { otherAdminTokens: deps.otherAdminTokens } : {}), sessions, adminGuard, hosts: deps.hosts, webRoot: deps.dashboard?.webRoot });
  await app.register(healthRoutes, { prefix: '/api/v1', instanceId: deps.instanceId, startedAt: deps.startedAt, limits: deps.limits });
  const metrics = deps.metrics;
  if (metrics) {
    await app.register(async (scope) => {
      if (!metrics.public) scope.addHook('onRequest', adminGuard);
      scope.get('/metrics', {
        schema: {
          tags: ['health'], summary: 'Prometheus metrics (text format); admin token unless MOSAIC_METRICS_PUBLIC=true', operationId: 'getMetrics',
          ...(metrics.public ? { security: [] } : {}),
          // Outside /api: the error answers are listed here (openapi.ts completes /api routes only).
          response: {
            200: { description: 'Prometheus text exposition format' },
            400: errorResponse, ...(metrics.public ? {} : { 401: errorResponse }), 404: errorResponse, 429: errorResponse, 500: errorResponse,
          },
        },
      }, async (_request, reply) => {
        const { contentType, body } = await metrics.render();
        return reply.type(contentType).send(body);
      });
    });
  }
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminGuard);
    await admin.register(repoRoutes, { repos: deps.repos });
    await admin.register(agentRoutes, { agents: deps.agentApi, sse: deps.sse });
    await admin.register(eventRoutes, { feed: deps.feed, conflicts: deps.agentService.conflicts, sse: deps.sse });
    await admin.register(conflictRoutes, { conflicts: deps.agentService.conflicts });
    await admin.register(worktreeRoutes, { agents: deps.agentService });
    await admin.register(statusRoutes, { store: deps.store });
  }, { prefix: '/api/v1' });
  for (const plugin of deps.rootPlugins ?? []) await app.register(async (scope) => plugin(scope));
  for (const plugin of deps.plugins ?? []) {
    await app.register(async (scope) => plugin(scope, adminGuard), { prefix: '/api/v1' });
  }
  return app;
}
