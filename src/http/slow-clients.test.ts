import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerChild, type ServerChild } from '../test-support/server-child.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';

interface RawClient {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves with ms since connect once the server closes the connection (or null after `withinMs`). */
  closed(withinMs: number): Promise<number | null>;
}

function rawClient(port: number, opts: { localAddress?: string } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port, ...opts });
    let text = '';
    let closedAt: number | undefined;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('close', () => (closedAt = Date.now() - started));
    // Before connect, an error fails the connect; after it, a reset is one way of being closed.
    socket.on('error', reject);
    socket.once('connect', () => resolve({
      socket,
      received: () => text,
      closed: async (withinMs) => {
        await waitFor(() => closedAt !== undefined, { timeoutMs: withinMs, intervalMs: 20 }).catch(() => undefined);
        return closedAt ?? null;
      },
    }));
  });
}

/** GET /api/v1/health on a fresh connection: its status and how long the answer took. */
function freshHealth(port: number): Promise<{ status: number | undefined; ms: number } | { error: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/api/v1/health', agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - started }));
    });
    request.on('timeout', () => request.destroy(new Error('no answer in 5 s')));
    request.on('error', (err) => resolve({ error: err.message, ms: Date.now() - started }));
  });
}

/**
 * Issue 7, must-hold 4: slow or idle clients cannot exhaust the server.
 */
describe('slow and idle clients', () => {
  describe('timeouts and closing answers', () => {
    let t: TestInstance;
    let port: number;

    beforeAll(async () => {
      t = await startTestInstance({ headersTimeoutMs: 1000, requestTimeoutMs: 1500, keepAliveTimeoutMs: 1000, fedRatePerIp: 2 });
      port = Number(new URL(t.url).port);
    });
    afterAll(async () => {
      await t.stop();
    });

    it('closes a connection that trickles its headers, after the headers timeout, with 408', async () => {
      const client = await rawClient(port);
      client.socket.write('GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      const trickle = setInterval(() => client.socket.writable && client.socket.write('X-Slow: 1\r\n'), 200);
      const closedAfter = await client.closed(10_000);
      clearInterval(trickle);
      expect(closedAfter).not.toBeNull();
      expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    });

    it('closes a connection that trickles its body, after the request timeout, with 408', async () => {
      const client = await rawClient(port);
      client.socket.write('POST /api/v1/federation/incoming/command HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n');
      const trickle = setInterval(() => client.socket.writable && client.socket.write('x'), 200);
      const closedAfter = await client.closed(10_000);
      clearInterval(trickle);
      expect(closedAfter).not.toBeNull();
      expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    });

    it('leaves an event stream open past the request timeout (the request was received at once)', async () => {
      const client = await rawClient(port);
      client.socket.write(`GET /api/v1/events?since=now HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${t.adminToken}\r\n\r\n`);
      await waitFor(() => client.received().startsWith('HTTP/1.1 200 '), { what: 'the stream to open' });
      // Twice the request timeout plus Node's check interval: a request timeout would have cut it by now.
      expect(await client.closed(3500)).toBeNull();
      client.socket.destroy();
    });

    it('keeps a connection after a 200, until the keep-alive timeout', async () => {
      const client = await rawClient(port);
      client.socket.write('GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await waitFor(() => client.received().includes('"status"'), { what: 'the health answer' });
      expect(client.received()).not.toMatch(/connection: close/i);
      expect(await client.closed(10_000)).not.toBeNull(); // idle: closed after MOSAIC_KEEP_ALIVE_TIMEOUT_MS
    });

    it('closes the connection after a 401, a 413 and a 429', async () => {
      const answers: string[] = [];
      const unauthorized = await rawClient(port);
      unauthorized.socket.write('GET /api/v1/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
      expect(await unauthorized.closed(900)).not.toBeNull(); // well before the keep-alive timeout
      answers.push(unauthorized.received());

      // The body is announced, never sent: the 413 comes from the length alone.
      const tooLarge = await rawClient(port);
      tooLarge.socket.write(`POST /api/v1/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${t.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n`);
      expect(await tooLarge.closed(900)).not.toBeNull();
      answers.push(tooLarge.received());

      // MOSAIC_FED_RATE_PER_IP is 2 here: the third federation request from this address is refused.
      for (let i = 0; i < 2; i += 1) await fetch(`${t.url}/api/v1/federation/instance`).then((res) => res.arrayBuffer());
      const limited = await rawClient(port);
      limited.socket.write('GET /api/v1/federation/instance HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
      expect(await limited.closed(900)).not.toBeNull();
      answers.push(limited.received());

      expect(answers.map((a) => /^HTTP\/1\.1 (\d+)/.exec(a)?.[1])).toEqual(['401', '413', '429']);
      for (const answer of answers) expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    });
  });

  /**
   * The case, against a server child started with 256 file
   * descriptors: one address opens 300 connections that trickle a 1 MB body a
   * byte a second (the old server, with about 22 descriptors of its own, ran
   * out of descriptors at about 234; 200 would not have exhausted it). The
   * per-address cap (64 by default) closes the rest at once, and a health
   * check from another address answers within a second.
   */
  describe('a client holding hundreds of slow connections', () => {
    let server: ServerChild | undefined;
    const attackers: RawClient[] = [];

    afterAll(async () => {
      attackers.forEach((a) => a.socket.destroy());
      await server?.stop();
    });

    it('does not stop /api/v1/health from answering within 1 s (fd limit 256)', { timeout: 90_000 }, async () => {
      const s = await startServerChild({ wrapper: ['prlimit', '--nofile=256:256'] });
      server = s;
      expect(readFileSync(`/proc/${s.pid}/limits`, 'utf8')).toMatch(/Max open files\s+256\s+256/);

      // All of 127.0.0.0/8 is loopback on Linux: the attacker is 127.0.0.2, the health check comes from 127.0.0.1.
      for (let i = 0; i < 300; i += 1) {
        const client = await rawClient(s.port, { localAddress: '127.0.0.2' });
        client.socket.write('POST /api/v1/federation/incoming/command HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n');
        attackers.push(client);
      }
      const trickle = setInterval(() => attackers.forEach((a) => a.socket.writable && a.socket.write('x')), 1000);
      try {
        // Let them trickle a while (two bytes each), then ask from a fresh connection.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const health = await freshHealth(s.port);
        expect(health).toMatchObject({ status: 200 });
        expect(health.ms).toBeLessThan(1000);

        // The cap is what kept descriptors free: every connection past 64 from that address was closed as accepted.
        const open = (await Promise.all(attackers.map((a) => a.closed(0)))).filter((at) => at === null).length;
        expect(open).toBeLessThanOrEqual(64);
        expect(open).toBeGreaterThan(0); // the ones under the cap are still trickling
      } finally {
        clearInterval(trickle);
      }
    });
  });
});
