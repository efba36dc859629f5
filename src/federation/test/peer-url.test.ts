import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRaw, startPair, invite, type Pair } from '../../test-support/federation.js';
import { connectBody, envelope, sign, type Party } from '../../test-support/federation-forge.js';
import { startTestInstance } from '../../test-support/instance.js';
import type { ConnectionRecord } from '../index.js';
import { incomingUrl, peerOrigin } from '../protocol/index.js';

interface ErrorBody {
  error: { code: string };
}

/**
 * Issue 7, must-hold 3: a peer cannot redirect where this instance sends
 * requests. A repeated CONNECT — with or without a token — never changes the
 * stored URL, name or key; only this side's admin does (PATCH url, a new
 * invite). Outbound URLs are the stored origin plus Mosaic's fixed paths.
 */
describe('a peer cannot redirect this instance', () => {
  let pair: Pair;
  let hub: Party;
  beforeAll(async () => {
    pair = await startPair();
    hub = { id: pair.hub.identity.instanceId, raw: pair.hub.identity.publicKey, privateKey: pair.hub.identity.privateKey };
  });
  afterAll(async () => {
    await pair.stop();
  });

  const stored = async (): Promise<ConnectionRecord> => (await pair.spoke.federation.store.connections.byInstance(hub.id))!;

  it('keeps the stored URL, name and key when an active peer re-sends CONNECT', async () => {
    const before = await stored();
    expect(before.url).toBe(pair.hub.url);
    const evil = { url: 'http://127.0.0.1:1/steal?x=', name: 'renamed' };
    for (const extra of [{}, { token: 'not-a-token' }]) {
      const { bytes, signature } = sign(envelope('CONNECT', hub.id, pair.spoke.identity.instanceId, connectBody(hub, evil)), hub.privateKey);
      const answer = await postRaw(pair.spoke, 'connect', bytes, signature);
      expect(answer.status).toBeLessThan(500);
      const after = await stored();
      expect({ url: after.url, name: after.name, publicKey: after.publicKey, state: after.state })
        .toEqual({ url: before.url, name: before.name, publicKey: before.publicKey, state: 'active' });
    }
  });

  it('builds outbound URLs from the origin only', () => {
    expect(peerOrigin('http://Host.example:7420/some/path?x=#frag')).toBe('http://host.example:7420');
    expect(incomingUrl('http://127.0.0.1:7420/api?x=', 'EVENT')).toBe('http://127.0.0.1:7420/api/v1/federation/incoming/event');
    expect(peerOrigin('http://user:pw@127.0.0.1:7420')).toBeUndefined();
    expect(peerOrigin('file:///etc/passwd')).toBeUndefined();
  });

  it('lets only the admin change the URL, to an instance with the same key', async () => {
    const conn = await stored();
    // The origin is kept, whatever path or query the admin typed.
    const set = await pair.spoke.api<ConnectionRecord>('PATCH', `/federation/connections/${conn.id}`, { url: `${pair.hub.url}/ignored?x=1` });
    expect(set.status).toBe(200);
    expect(set.body.url).toBe(pair.hub.url);
    // Another instance at the new URL is refused: its key is not the peer's.
    const other = await startTestInstance({ name: 'other' });
    try {
      const refused = await pair.spoke.api<ErrorBody>('PATCH', `/federation/connections/${conn.id}`, { url: other.url });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('peer_mismatch');
      expect((await stored()).url).toBe(pair.hub.url);
    } finally {
      await other.stop();
    }
  });

  it('stores only the origin of a new peer and of a redeemed invite', async () => {
    const fresh = await startTestInstance({ name: 'fresh' });
    try {
      const { token } = await invite(pair.spoke);
      const res = await fresh.api<ConnectionRecord>('POST', '/federation/connections', { url: `${pair.spoke.url}/x/y?z=1#f`, token });
      expect(res.status).toBe(201);
      expect(res.body.url).toBe(pair.spoke.url);
      const onSpoke = (await pair.spoke.federation.store.connections.byInstance(fresh.identity.instanceId))!;
      expect(onSpoke.url).toBe(fresh.url);
    } finally {
      await fresh.stop();
    }
  });
});
