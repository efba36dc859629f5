import type { FastifyInstance } from 'fastify';
import { grantsBody, grantsView } from '../../federation/index.js';
import { commonErrors } from '../../http/schemas.js';
import type { A2aTokens } from './service.js';

const tokenView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    grants: grantsView,
    createdAt: { type: 'integer' },
    lastUsedAt: { type: ['integer', 'null'], description: 'last request with it (ms; updated at most once a minute)' },
    revokedAt: { type: ['integer', 'null'] },
  },
} as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[a-z0-9]{1,64}$', description: 'the token id (never the secret)' } },
} as const;

/** `/api/v1/a2a/tokens`: the admin mints, lists and revokes A2A client tokens (the admin guard is added by the caller). */
export async function a2aTokenRoutes(app: FastifyInstance, opts: { tokens: A2aTokens }): Promise<void> {
  const tags = ['a2a'];
  app.post<{ Body: { grants?: unknown } | undefined }>('/a2a/tokens', {
    schema: {
      tags,
      summary: 'Mint an A2A client token with grants (the secret is in this answer only)',
      description: 'Grants as a federation peer\'s: fields left out take the defaults (no repositories, 0 agents, claude only).',
      body: { type: ['object', 'null'], additionalProperties: false, properties: { grants: grantsBody } },
      response: {
        201: { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' }, grants: grantsView, createdAt: { type: 'integer' } } },
        ...commonErrors,
      },
    },
  }, async (request, reply) => reply.status(201).send(await opts.tokens.create(request.body?.grants ?? {})));

  app.get('/a2a/tokens', {
    schema: { tags, summary: 'A2A client tokens: ids and grants, never secrets', response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenView } } }, ...commonErrors } },
  }, async () => ({ tokens: await opts.tokens.list() }));

  app.delete<{ Params: { id: string } }>('/a2a/tokens/:id', {
    schema: {
      tags,
      summary: 'Revoke an A2A client token: its next request is a 401 (its agents keep running)',
      params: idParams,
      response: { 200: tokenView, ...commonErrors },
    },
  }, async (request) => opts.tokens.revoke(request.params.id));
}
