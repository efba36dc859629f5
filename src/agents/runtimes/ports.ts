/**
 * Per-agent TCP ports, so parallel agents' dev servers never collide. The OS
 * picks a port that is free right now; `taken` holds the ports Mosaic has
 * already handed to live agents (which may not be listening yet). The caller
 * records the returned port as taken. A port is only reserved by bookkeeping:
 * another program on the machine could still grab it later.
 */
import { createServer } from 'node:net';
import { unavailable } from '../../core/errors.js';

const MAX_ATTEMPTS = 50;

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export async function reservePort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const port = await freeLoopbackPort();
    if (!taken.has(port)) return port;
  }
  throw unavailable('no_port', `could not find a free TCP port outside the ${taken.size} already reserved`);
}
