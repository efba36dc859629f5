import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../core/version.js';

/**
 * The OpenAPI document, generated from the routes' own JSON schemas, at
 * /api/v1/openapi.json, and a browsable page at /api/v1/docs. Must be
 * registered before the routes it documents.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Mosaic', version: VERSION, description: 'Run coding agents in parallel, each in its own git worktree, locally or on federated instances.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the token in $MOSAIC_HOME/admin-token' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
