import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { AgentService } from '../agents/index.js';
import { MAX_LOG_WAIT_MS } from '../agents/index.js';
import { notFound } from '../core/errors.js';
import { INTERNAL_PREFIX } from './forward.js';
import type { NodeAuth } from './node-auth.js';
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

/**
 * `GET /cluster` and draining (admin), and the internal routes other nodes
 * forward an agent's reads to (NodeAuth only: signed with the cluster secret).
 * Under /api/v1; registered on cluster nodes only.
 */
export async function clusterRoutes(app: FastifyInstance, opts: {
  registry: NodeRegistry; adminGuard: onRequestAsyncHookHandler; auth: NodeAuth; agents: () => AgentService;
}): Promise<void> {
  await app.register(async (admin) => adminRoutes(admin, opts));
  await app.register(async (internal) => internalRoutes(internal, opts));
}

async function adminRoutes(app: FastifyInstance, opts: { registry: NodeRegistry; adminGuard: onRequestAsyncHookHandler }): Promise<void> {
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

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9]{1,64}$' } } } as const;

async function internalRoutes(app: FastifyInstance, opts: { auth: NodeAuth; agents: () => AgentService }): Promise<void> {
  const hooks = opts.auth.hooks();
  const tags = ['cluster'];
  const hidden = { hide: true, tags };
  app.get<{ Params: { id: string }; Querystring: { after?: number; limit?: number; waitMs?: number } }>(`${INTERNAL_PREFIX}/agents/:id/logs`, {
    ...hooks,
    schema: {
      ...hidden, summary: 'Node to node: a page of an agent\'s log on this node', params: idParams,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { after: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10_000 }, waitMs: { type: 'integer', minimum: 0, maximum: MAX_LOG_WAIT_MS } },
      },
    },
  }, async (request) => {
    const q = request.query;
    return opts.agents().logs(request.params.id, q.after ?? 0, q.limit ?? 1000, { waitMs: q.waitMs ?? 0 });
  });
  app.get<{ Params: { id: string } }>(`${INTERNAL_PREFIX}/agents/:id/diff`, {
    ...hooks,
    schema: { ...hidden, summary: 'Node to node: the diff of an agent on this node', params: idParams },
  }, async (request, reply) => reply.type('text/plain; charset=utf-8').send(await opts.agents().diff(request.params.id)));
  app.post<{ Params: { id: string } }>(`${INTERNAL_PREFIX}/agents/:id/kill`, {
    ...hooks,
    schema: { ...hidden, summary: 'Node to node: signal an agent of this node that a kill was asked for (on any node)', params: idParams },
  }, async (request, reply) => {
    await opts.agents().killHere(request.params.id);
    return reply.status(204).send();
  });
}
