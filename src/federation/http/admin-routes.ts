import type { FastifyInstance } from 'fastify';
import type { ConnectionService, ConnectionUpdate, ConnectRequest } from '../connections/service.js';
import type { DisconnectedAgents } from '../remote/peer-agents.js';
import type { ConnectionRecord, FederationStore, MessageFilter, MessageRecord } from '../store/index.js';
import {
  acceptBody, adminErrors, connectBody, connectionParams, connectionSchema, disconnectBody, disconnectResponse, errorResponse, inviteBody,
  inviteResponse, messageSchema, messagesQuery, patchBody,
} from './schemas.js';

export interface AdminRoutesOptions {
  connections: ConnectionService;
  store: FederationStore;
  /** Ends a connection, first killing this instance's agents on that peer with `killAgents` (see remote/peer-agents.ts). */
  disconnect(ref: string, opts: { killAgents?: boolean }): Promise<ConnectionRecord & { agents: DisconnectedAgents }>;
}

type Params = { Params: { id: string } };

/** The admin's federation API (DESIGN §5); the admin guard is added by the caller. */
export async function adminFederationRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { connections, store } = opts;
  const tags = ['federation'];
  const one = { 200: connectionSchema, ...adminErrors };

  app.post<{ Body: { grants: unknown; ttlS?: number } }>('/federation/invites', {
    schema: {
      tags,
      summary: 'Create a single-use invite for a peer, with the grants it will have here',
      body: inviteBody,
      response: { 201: inviteResponse, ...adminErrors },
    },
  }, async (request, reply) => reply.status(201).send(await connections.createInvite(request.body.grants, request.body.ttlS)));

  app.get('/federation/connections', {
    schema: { tags, summary: 'List connections', response: { 200: { type: 'object', properties: { connections: { type: 'array', items: connectionSchema } } }, ...adminErrors } },
  }, async () => ({ connections: (await connections.list()).map((c) => connections.withContact(c)) }));

  app.post<{ Body: ConnectRequest }>('/federation/connections', {
    schema: {
      tags,
      summary: 'Connect to a peer: active at once with an invite token, pending until its admin accepts otherwise',
      body: connectBody,
      response: { 201: connectionSchema, ...adminErrors },
    },
  }, async (request, reply) => reply.status(201).send(await connections.connect(request.body)));

  app.get<Params>('/federation/connections/:id', {
    schema: { tags, summary: 'One connection (by id, name or instance id)', params: connectionParams, response: one },
  }, async (request) => connections.withContact(await connections.resolve(request.params.id)));

  app.post<Params & { Body: { grants?: unknown } | null }>('/federation/connections/:id/accept', {
    schema: { tags, summary: 'Accept a pending request, optionally setting its grants', params: connectionParams, body: acceptBody, response: one },
  }, async (request) => connections.accept(request.params.id, request.body?.grants));

  app.post<Params>('/federation/connections/:id/reject', {
    schema: { tags, summary: 'Reject a pending request', params: connectionParams, response: one },
  }, async (request) => connections.reject(request.params.id));

  app.post<Params & { Body: { killAgents?: boolean } | null }>('/federation/connections/:id/disconnect', {
    schema: {
      tags,
      summary: 'End a connection; the peer is told, and nothing from it is accepted afterwards',
      description: 'This instance\'s unfinished agents on the peer are left running there and marked `orphaned` here (their state '
        + 'no longer changes; `DELETE /agents/:id?force=true` forgets one), unless `killAgents` kills them first (and waits for them to end).',
      params: connectionParams,
      body: disconnectBody,
      response: { 200: disconnectResponse, ...adminErrors },
    },
  }, async (request) => opts.disconnect(request.params.id, { killAgents: request.body?.killAgents === true }));

  app.patch<Params & { Body: ConnectionUpdate }>('/federation/connections/:id', {
    schema: { tags, summary: 'Change grants, name or URL, suspend or resume', params: connectionParams, body: patchBody, response: one },
  }, async (request) => connections.update(request.params.id, request.body));

  app.get<{ Querystring: Omit<MessageFilter, 'excludeOps'> & { peer?: string; logs?: '1' | '0' | 'true' | 'false' } }>('/federation/messages', {
    schema: {
      tags,
      summary: 'Sent and received messages with their status, newest first (log reads only with logs=1 or op=agent.logs)',
      querystring: messagesQuery,
      response: { 200: { type: 'object', properties: { messages: { type: 'array', items: messageSchema } } }, 400: errorResponse, 401: errorResponse },
    },
  }, async (request) => {
    const { peer, logs, ...rest } = request.query;
    // Log reads (one per wait of a remote `logs -f`) would bury everything else: only when asked for (or by op).
    const withLogs = logs === '1' || logs === 'true' || rest.op !== undefined;
    const filter: MessageFilter = { ...rest, ...(withLogs ? {} : { excludeOps: ['agent.logs'] }) };
    if (peer !== undefined) filter.peer = (await store.connections.resolve(peer))?.instanceId ?? peer;
    const names = new Map((await store.connections.list()).map((c) => [c.instanceId, c.name]));
    return { messages: (await store.messages.list(filter)).map((m: MessageRecord) => ({ ...m, peerName: names.get(m.peer) ?? null })) };
  });
}
