import type { FastifyInstance } from 'fastify';

export interface StatusOptions {
  /** `SQLite <path>` or `PostgreSQL <host>/<db>` (never a password). */
  store: { backend: 'sqlite' | 'postgres'; description: string };
}

/**
 * GET /api/v1/status — what the instance runs on, for `mosaic status`
 * (admin: where the database is is nobody else's business).
 */
export async function statusRoutes(app: FastifyInstance, opts: StatusOptions): Promise<void> {
  app.get('/status', {
    schema: {
      tags: ['health'],
      summary: 'What the instance runs on: its store',
      response: {
        200: {
          type: 'object',
          required: ['store'],
          properties: {
            store: {
              type: 'object',
              required: ['backend', 'description'],
              properties: {
                backend: { type: 'string', enum: ['sqlite', 'postgres'] },
                description: { type: 'string', description: '`SQLite <path>` or `PostgreSQL <host>/<db>`; never a password' },
              },
            },
          },
        },
      },
    },
  }, async () => ({ store: opts.store }));
}
