import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { connectBody, envelope, party, sign } from '../../test-support/federation-forge.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';

/** POSTs a signed CONNECT from a fresh key, from the loopback address `from` (Linux routes all of 127/8 to lo). */
function connectFrom(t: TestInstance, from: string): Promise<{ status: number; code?: string }> {
  const who = party();
  const { bytes, signature } = sign(envelope('CONNECT', who.id, t.identity.instanceId, connectBody(who)), who.privateKey);
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: Number(port), localAddress: from, method: 'POST', path: '/api/v1/federation/incoming/connect',
      headers: { 'content-type': 'application/json', 'mosaic-signature': signature, 'content-length': bytes.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { body?: { error?: { code: string } }; error?: { code: string } };
        resolve({ status: res.statusCode ?? 0, code: parsed.body?.error?.code ?? parsed.error?.code });
      });
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

const pendingCount = async (t: TestInstance): Promise<number> =>
  (await t.federation.store.connections.list()).filter((c) => c.state === 'pending' && c.direction === 'inbound').length;

/**
 * Issue 7, must-hold 9: connection requests cannot lock the door. Pending
 * requests are capped per source address and expire; a flood of fresh keys
 * from one address does not stop a legitimate request from another.
 */
describe('pending connection requests', () => {
  let t: TestInstance | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('caps requests per source address; another address still gets in', async () => {
    t = await startTestInstance({ fedPendingPerAddress: 3 });
    for (let i = 0; i < 3; i++) expect((await connectFrom(t, '127.0.0.1')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect(await connectFrom(t, '127.0.0.1')).toEqual({ status: 429, code: 'too_many_requests' });
    expect(await pendingCount(t)).toBe(3);
    expect((await connectFrom(t, '127.0.0.2')).status).toBe(200);
    expect(await pendingCount(t)).toBe(4);
  });

  it('expires requests the admin never answered', { timeout: 20_000 }, async () => {
    t = await startTestInstance({ fedPendingPerAddress: 2, fedPendingTtlS: 1 });
    for (let i = 0; i < 2; i++) expect((await connectFrom(t, '127.0.0.1')).status).toBe(200);
    expect((await connectFrom(t, '127.0.0.1')).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await connectFrom(t, '127.0.0.1')).status).toBe(200);
    // The two old requests are gone; only the new one waits.
    expect(await pendingCount(t)).toBe(1);
  });
});
