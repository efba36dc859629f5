import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../core/logger.js';
import { installErrorHandling } from './errors.js';
import { healthRoutes } from './health.js';

/** Request bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT = 1024 * 1024;

export interface AppDeps {
  logger: Logger;
  instanceId: string;
  adminToken: string;
  startedAt: number;
  https?: { cert: Buffer; key: Buffer } | undefined;
}

/** Composes the HTTP app from feature plugins; holds no business logic. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: BODY_LIMIT,
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance; // https and http instances share the routing surface used here
  installErrorHandling(app);
  await app.register(healthRoutes, { prefix: '/api/v1', instanceId: deps.instanceId, startedAt: deps.startedAt });
  return app;
}
