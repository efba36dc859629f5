import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { reservePort } from './ports.js';

const canListen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1' }, () => server.close(() => resolve(true)));
  });

describe('reservePort', () => {
  it('hands out free, distinct loopback ports outside the taken set', async () => {
    const taken = new Set<number>();
    for (let i = 0; i < 10; i += 1) {
      const port = await reservePort(taken);
      expect(port).toBeGreaterThan(0);
      expect(port).toBeLessThan(65536);
      expect(taken.has(port)).toBe(false);
      taken.add(port);
    }
    expect(taken.size).toBe(10);
    const last = [...taken].at(-1) ?? 0;
    expect(await canListen(last)).toBe(true);
  });

  it('gives up with a typed error when every port it is offered is taken', async () => {
    // Every port the OS can hand out, so no attempt succeeds.
    const all = new Set<number>(Array.from({ length: 65536 }, (_, i) => i));
    await expect(reservePort(all)).rejects.toMatchObject({ code: 'no_port', status: 503 });
  });
});
