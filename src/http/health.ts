import type { FastifyInstance } from 'fastify';
import { VERSION } from '../core/version.js';

export interface HealthOptions {
  instanceId: string;
  startedAt: number;
  /** Runtimes paused by (or close to) their rate limit. */
  limits?: (() => Array<{ runtime: string; state: 'paused' | 'warning'; resetsAt: number }>) | undefined;
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
            limits: {
              type: 'array',
              description: 'runtimes paused by their rate limit (their agents wait queued until resetsAt, ms since epoch) or close to it (warning)',
              items: {
                type: 'object',
                properties: { runtime: { type: 'string' }, state: { type: 'string', enum: ['paused', 'warning'] }, resetsAt: { type: 'integer' } },
              },
            },
          },
        },
      },
    },
  }, async () => ({
    status: 'ok',
    version: VERSION,
    instanceId: opts.instanceId,
    uptimeS: Math.round((Date.now() - opts.startedAt) / 1000),
    limits: opts.limits?.() ?? [],
  }));
}
