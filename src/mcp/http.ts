import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MosaicError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HostAllowList } from '../http/allowed-hosts.js';
import { requireAdmin, type OtherAdminTokens } from '../http/auth.js';
import type { McpServices } from './services.js';

export interface McpHttpOptions {
  services: McpServices;
  adminToken: string;
  /** A cluster: every node's admin token works here too. */
  otherAdminTokens?: OtherAdminTokens;
  hosts: HostAllowList;
  logger?: Logger;
}

/**
 * The MCP SDK (with zod and its JSON-schema tooling, a few hundred modules)
 * is loaded on the first MCP request, not at start-up: an instance nobody
 * drives over MCP never pays for it, and start-up does not open those files
 * all at once (under a low descriptor limit that alone ran out: EMFILE).
 */
let sdk: Promise<[typeof import('./server.js'), typeof import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js')]> | undefined;
const loadSdk = () => (sdk ??= Promise.all([import('./server.js'), import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js')]));

const notAllowed = async (_request: FastifyRequest, reply: FastifyReply): Promise<never> => {
  void reply.header('allow', 'POST');
  throw new MosaicError(405, 'method_not_allowed', 'this MCP endpoint is stateless: POST JSON-RPC messages to /mcp (no session stream to GET or DELETE)');
};

/**
 * `POST /mcp`: MCP over Streamable HTTP, stateless (a server and transport
 * per request, no session), behind the admin bearer token. The Host must be
 * one this instance serves and a browser's Origin one of its pages (the
 * DNS-rebinding defence the SDK recommends, done by the instance's one
 * allow-list). The SDK's web-standard transport answers with a fetch
 * `Response`, which Fastify sends as it is (JSON, or SSE while a tool reports progress).
 */
export async function mcpHttpPlugin(app: FastifyInstance, opts: McpHttpOptions): Promise<void> {
  const hostCheck = opts.hosts.hook({ origin: true });
  const bearer = requireAdmin(opts.adminToken, undefined, undefined, opts.otherAdminTokens);
  const hide = { hide: true };

  app.post('/mcp', { onRequest: [hostCheck, bearer], schema: hide }, async (request, reply) => {
    const [{ createMcpServer }, { WebStandardStreamableHTTPServerTransport }] = await loadSdk();
    const server = createMcpServer(opts.services, opts.logger);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    // The answer may be a stream that outlives this handler: close both once the HTTP exchange is over
    // (a client that goes away mid-call aborts the tool, e.g. a long wait_agents).
    reply.raw.once('close', () => {
      void transport.close().catch(() => {});
      void server.close().catch(() => {});
    });
    const headers = new Headers();
    for (const [key, value] of Object.entries(request.headers)) {
      if (typeof value === 'string') headers.set(key, value);
      else if (Array.isArray(value)) headers.set(key, value.join(', '));
    }
    const webRequest = new Request(`http://${request.headers.host ?? 'localhost'}/mcp`, { method: 'POST', headers, body: JSON.stringify(request.body ?? null) });
    return reply.send(await transport.handleRequest(webRequest, { parsedBody: request.body }));
  });
  app.get('/mcp', { onRequest: [hostCheck, bearer], schema: hide }, notAllowed);
  app.delete('/mcp', { onRequest: [hostCheck, bearer], schema: hide }, notAllowed);
}
