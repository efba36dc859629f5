import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { VERSION } from '../core/version.js';
import { errorResponse } from './schemas.js';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** `GET /api/v1/agents/:id/logs` → `getAgentsByIdLogs`: unique because method and path are. */
export function operationIdFor(method: string, url: string): string {
  const words = url.replace(/^\/api\/v1\/?/, '').split('/').filter(Boolean).flatMap((segment) => {
    const param = segment.startsWith(':') ? segment.slice(1) : segment === '*' ? 'path' : undefined;
    const parts = (param ?? segment).split(/[^A-Za-z0-9]+/).filter(Boolean);
    return param ? ['by', ...parts] : parts;
  });
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}

/**
 * The error answers any documented route can give, so a route added later
 * cannot leave one out: 400 (validation), 401 (admin routes: no or a wrong
 * token), 404 (unknown id or route), 409 (state conflicts, a busy git repo;
 * not on reads), 413/415 (bodies), 429 (limits), 500 (a fault). A route's own
 * declaration of a status wins.
 */
export function standardErrors(method: string, isPublic: boolean): Record<number, unknown> {
  const describe = (description: string) => ({ ...errorResponse, description });
  return {
    400: describe('invalid request: `error.code` names the problem, `error.details.field` the field'),
    ...(isPublic ? {} : { 401: describe('missing or wrong admin token') }),
    404: describe('not found (`error.code` says what)'),
    ...(method === 'GET' ? {} : { 409: describe('conflict with the current state (`error.code` says which)') }),
    ...(BODY_METHODS.has(method) ? { 413: describe('body too large'), 415: describe('body is not JSON') } : {}),
    429: describe('too many requests or a full queue; retry later'),
    500: describe('internal error'),
  };
}

/**
 * Completes every documented route's schema as it is added (an `onRoute`
 * hook, so routes registered later by any plugin get the same): an
 * operationId, the standard error responses and, for routes that declare no
 * `security`, the admin bearer scheme. Public routes declare `security: []`.
 */
function completeRoute(route: RouteOptions): void {
  const schema = route.schema as Record<string, unknown> | undefined;
  if (!schema || schema.hide === true || !route.url.startsWith('/api/')) return;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const method = String(methods[0]).toUpperCase();
  const isPublic = Array.isArray(schema.security) && schema.security.length === 0;
  const response = (schema.response ?? {}) as Record<string, unknown>;
  const declared = Object.keys(response).some((status) => /^2\d\d$/.test(status));
  route.schema = {
    ...schema,
    operationId: typeof schema.operationId === 'string' ? schema.operationId : operationIdFor(method, route.url),
    response: {
      // No schema: the answer is sent as the route produces it (streams, text), only documented.
      ...(declared ? {} : { 200: { description: 'OK' } }),
      ...standardErrors(method, isPublic),
      ...response,
    },
  };
}

/**
 * The OpenAPI 3.1 document, generated from the routes' own JSON schemas, at
 * /api/v1/openapi.json, and a browsable page at /api/v1/docs. Must be
 * registered before the routes it documents.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.addHook('onRoute', completeRoute);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Mosaic', version: VERSION, description: 'Run coding agents in parallel, each in its own git worktree, locally or on federated instances.' },
      servers: [{ url: '/', description: 'this instance' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'the token in $MOSAIC_HOME/admin-token' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/v1/docs' });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
