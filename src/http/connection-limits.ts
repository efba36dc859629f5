import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** What one client may cost the server in connections and time. */
export interface ConnectionLimits {
  /**
   * Time to receive a whole request (headers and body), then 408 and close.
   * It ends when the request has arrived: long answers (SSE, long polls) are
   * not cut by it.
   */
  requestTimeoutMs: number;
  /** Time to receive a request's headers (a connection that sends nothing counts from its start). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections from one source address; more are closed as soon as they are accepted. */
  maxConnectionsPerAddress: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnectionsPerAddress: 64,
};

/** Answers after which the client gets no more of this connection: it must not keep a socket by failing. */
const CLOSING_STATUSES = new Set([401, 413, 429]);

/**
 * Bounds what slow, idle or numerous clients can hold: Node's request and
 * header timeouts (checked every second or so, not Node's 30 s default), the
 * keep-alive timeout, a per-address cap on open connections, and
 * `Connection: close` on 401/413/429 answers. Call before `listen`.
 */
export function applyConnectionLimits(app: FastifyInstance, limits: ConnectionLimits): void {
  // connectionsCheckingInterval is a real Server property in Node 18+, missing from @types/node 20's class.
  const server = app.server as Server & { connectionsCheckingInterval: number };
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Node looks for expired requests this often (30 s by default, which would double a short timeout); read at listen.
  server.connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(server.headersTimeout / 4)));

  const open = new Map<string, number>();
  let refusedSinceLog = 0;
  let lastLog = 0;
  // Node's own handlers (the HTTP parser, TLS) run only for a connection under the cap.
  const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerAddress) {
      socket.destroy();
      refusedSinceLog += 1;
      const now = Date.now();
      if (now - lastLog > 10_000) {
        app.log.warn({ address, limit: limits.maxConnectionsPerAddress, refused: refusedSinceLog }, 'connections refused: too many open from one address');
        refusedSinceLog = 0;
        lastLog = now;
      }
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
    for (const handler of handlers) handler.call(server, socket);
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    if (CLOSING_STATUSES.has(reply.statusCode)) void reply.header('connection', 'close');
    return payload;
  });
}
