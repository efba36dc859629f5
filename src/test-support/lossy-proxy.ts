import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of an instance that can misbehave like a
 * network: lose a reply after the instance acted on the request, answer
 * with an error status itself, or never answer at all.
 */
export interface LossyProxy {
  url: string;
  /** Forwards the next `n` matching requests but destroys the caller's socket instead of replying. */
  dropReplies(pathPrefix: string, n?: number): void;
  /** Answers the next `n` matching requests with `status` itself, without forwarding them. */
  failWith(pathPrefix: string, status: number, n?: number): void;
  /** Holds the next `n` matching requests open without ever answering. */
  hang(pathPrefix: string, n?: number): void;
  /** Requests seen, by path. */
  seen: string[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startLossyProxy(target: string): Promise<LossyProxy> {
  type Fault = { prefix: string; left: number; action: 'drop' | 'hang' | number };
  const faults: Fault[] = [];
  const take = (path: string, when: (f: Fault) => boolean): Fault | undefined => {
    const fault = faults.find((f) => f.left > 0 && path.startsWith(f.prefix) && when(f));
    if (fault) fault.left -= 1;
    return fault;
  };
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/';
      seen.push(path);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
      const payload = req.method === 'GET' ? undefined : await body(req);
      const early = take(path, (f) => f.action !== 'drop');
      if (early?.action === 'hang') return;
      if (typeof early?.action === 'number') {
        res.writeHead(early.action, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'proxy_fault', message: 'injected' } }));
        return;
      }
      const upstream = await fetch(`${target}${path}`, { method: req.method ?? 'GET', headers, ...(payload ? { body: payload } : {}) });
      const answer = Buffer.from(await upstream.arrayBuffer());
      if (take(path, (f) => f.action === 'drop')) {
        req.socket.destroy();
        return;
      }
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) out[k] = v;
      });
      res.writeHead(upstream.status, out).end(answer);
    })().catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    dropReplies(prefix, n = 1) {
      faults.push({ prefix, left: n, action: 'drop' });
    },
    failWith(prefix, status, n = 1) {
      faults.push({ prefix, left: n, action: status });
    },
    hang(prefix, n = 1) {
      faults.push({ prefix, left: n, action: 'hang' });
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
