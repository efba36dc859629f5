import { A2A_VERSION_HEADER } from '@a2a-js/sdk';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { JsonRpcTransportHandler, ServerCallContext, validateVersion } from '@a2a-js/sdk/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { unauthorized } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HostAllowList } from '../http/allowed-hosts.js';
import { secretsEqual, type OtherAdminTokens } from '../http/auth.js';
import { openSse, type SseLimits } from '../http/sse.js';
import { A2aCaller } from './caller.js';
import { cardJson, legacyCardJson } from './card.js';
import { rpcErrorOf } from './errors.js';
import { REFUSAL_KEY, SIGNAL_KEY, type MosaicA2aHandler } from './handler.js';
import type { A2aTokens } from './tokens/service.js';

export interface A2aPluginOptions {
  handler: MosaicA2aHandler;
  tokens: A2aTokens;
  adminToken: string;
  /** A cluster: every node's admin token works here too. */
  otherAdminTokens?: OtherAdminTokens;
  hosts: HostAllowList;
  sse?: SseLimits;
  logger?: Logger;
}

const LEGACY_VERSION = '0.3';
const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name.toLowerCase()];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
};
type RpcResponse = { jsonrpc: string; id: string | number | null; result?: unknown; error?: unknown };
const isStream = (value: unknown): value is AsyncGenerator<RpcResponse> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * A2A served from Fastify, not a second HTTP server: the SDK's
 * framework-independent JSON-RPC transport handlers (`JsonRpcTransportHandler`
 * for v1.0, `LegacyJsonRpcTransportHandler` for v0.3, picked by the
 * `A2A-Version` header as the SDK's Express adapter picks them) behind
 * this instance's Host/Origin allow-list and bearer tokens; streams go out
 * through Mosaic's SSE writer (a client that stops reading is dropped, never
 * buffered for). `GET /.well-known/agent-card.json` is public.
 */
export async function a2aPlugin(app: FastifyInstance, opts: A2aPluginOptions): Promise<void> {
  const v1 = new JsonRpcTransportHandler(opts.handler);
  const legacy = new LegacyJsonRpcTransportHandler(opts.handler);
  const callers = new WeakMap<FastifyRequest, A2aCaller>();
  const hide = { hide: true };

  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) throw unauthorized('auth_required', 'missing Authorization: Bearer <admin token or A2A client token>');
    const presented = match[1]!;
    if (secretsEqual(presented, opts.adminToken) || (opts.otherAdminTokens !== undefined && (await opts.otherAdminTokens(presented)))) {
      callers.set(request, new A2aCaller(null));
      return;
    }
    const token = await opts.tokens.authenticate(presented);
    if (!token) throw unauthorized('auth_invalid', 'invalid or revoked token');
    callers.set(request, new A2aCaller(token));
  };

  app.get('/.well-known/agent-card.json', { onRequest: opts.hosts.hook(), schema: hide }, async (request, reply) => {
    const card = await opts.handler.getAgentCard();
    void reply.header('vary', A2A_VERSION_HEADER).header('cache-control', 'no-cache');
    // Without a version the client is a v0.3 one (the SDK's rule): it gets the v0.3 card, which lists the v1.0 interfaces too.
    return (header(request, A2A_VERSION_HEADER) ?? LEGACY_VERSION) === LEGACY_VERSION ? legacyCardJson(card) : cardJson(card);
  });

  app.post('/a2a', { onRequest: [opts.hosts.hook({ origin: true }), authenticate], schema: hide }, async (request, reply) => {
    const version = header(request, A2A_VERSION_HEADER) ?? LEGACY_VERSION;
    const isLegacy = version === LEGACY_VERSION;
    const abort = new AbortController();
    reply.raw.once('close', () => abort.abort());
    const context = new ServerCallContext({ user: callers.get(request)!, requestedVersion: version, state: new Map([[SIGNAL_KEY, abort.signal]]) });
    const body = request.body as Record<string, unknown> | null;
    const id = (typeof body?.id === 'string' || typeof body?.id === 'number') ? body.id : null;
    const failure = (err: unknown): RpcResponse => {
      const cause = context.state.get(REFUSAL_KEY) ?? err;
      const error = rpcErrorOf(cause, isLegacy);
      if (error.code === -32603) opts.logger?.error({ err: cause }, 'A2A request failed');
      return { jsonrpc: '2.0', id, error };
    };
    try {
      validateVersion(version, await opts.handler.getAgentCard(), 'JSONRPC');
    } catch (err) {
      return failure(err);
    }
    const result = await (isLegacy ? legacy : v1).handle(body ?? {}, context);
    if (!isStream(result)) {
      // The SDK has mapped what was thrown; a Mosaic refusal is answered with its own code instead.
      if (result.error === undefined) return result;
      if (context.state.has(REFUSAL_KEY)) return failure(result.error);
      if ((result.error as { code?: number }).code === -32603) opts.logger?.error({ error: result.error }, 'A2A request failed');
      return result;
    }

    // A refusal before the first event (a spawn outside the grants) is a plain JSON-RPC error, not a stream.
    let first: IteratorResult<RpcResponse>;
    try {
      first = await result.next();
    } catch (err) {
      return failure(err);
    }
    const stream = openSse(request, reply, opts.sse);
    stream.onClose(() => abort.abort());
    try {
      for (let next = first; !next.done && !stream.closed; next = await result.next()) {
        if (!stream.send({ data: next.value }) || !(await stream.drained())) break;
      }
    } catch (err) {
      stream.send({ event: 'error', data: failure(err) });
    } finally {
      stream.close();
      await result.return(undefined).catch(() => {});
    }
    return reply;
  });
}

/** The admin guard's hook type, for the token routes registered under /api/v1. */
export type AdminGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
