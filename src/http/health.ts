import type { FastifyInstance } from 'fastify';
import { VERSION } from '../core/version.js';

export interface HealthOptions {
  instanceId: string;
  startedAt: number;
}

/** GET /api/v1/health — public liveness and identity. */
export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  app.get('/health', {
    schema: {
      tags: ['health'],
      summary: 'Liveness, version and instance id (no authentication)',
      security: [],
      response: {
        200: {
          type: 'object',
          required: ['status', 'version', 'instanceId', 'uptimeS'],
          properties: {
            status: { type: 'string' },
            version: { type: 'string' },
            instanceId: { type: 'string' },
            uptimeS: { type: 'number' },
          },
        },
      },
    },
  }, async () => ({
    status: 'ok',
    version: VERSION,
    instanceId: opts.instanceId,
    uptimeS: Math.round((Date.now() - opts.startedAt) / 1000),
  }));
}
