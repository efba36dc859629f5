import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { notFound } from '../core/errors.js';
import type { NodeRegistry } from './nodes.js';

const nodeView = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    url: { type: 'string', description: 'the internal URL other nodes reach it at (MOSAIC_NODE_URL)' },
    state: { type: 'string', enum: ['up', 'draining', 'lost'] },
    capacity: { type: 'integer' },
    running: { type: 'integer', description: 'agents spawning or running there at its last heartbeat' },
    heartbeatAt: { type: 'integer' },
    version: { type: 'string' },
  },
} as const;

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } },
} as const;

/** `GET /cluster` and draining (admin routes, under /api/v1; registered on cluster nodes only). */
export async function clusterRoutes(app: FastifyInstance, opts: { registry: NodeRegistry; adminGuard: onRequestAsyncHookHandler }): Promise<void> {
  const { registry } = opts;
  const tags = ['cluster'];
  app.addHook('onRequest', opts.adminGuard);

  app.get('/cluster', {
    schema: { tags, summary: 'The nodes of this cluster', response: { 200: { type: 'object', properties: { nodes: { type: 'array', items: nodeView } } } } },
  }, async () => ({ nodes: await registry.list() }));

  for (const [verb, draining] of [['drain', true], ['undrain', false]] as const) {
    app.post<{ Params: { name: string } }>(`/cluster/nodes/:name/${verb}`, {
      schema: {
        tags, params: nameParams,
        summary: draining ? 'A draining node finishes its agents and takes no new ones' : 'The node takes new agents again',
        response: { 200: nodeView },
      },
    }, async (request) => {
      if (!(await registry.setDraining(request.params.name, draining))) throw notFound('unknown_node', `no node '${request.params.name}' in this cluster`);
      return registry.get(request.params.name);
    });
  }
}
