import { afterAll, describe, expect, it } from 'vitest';
import { postRaw, startPair, type Pair } from '../../test-support/federation.js';
import { envelope, sign, spawnArgs } from '../../test-support/federation-forge.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { MAX_BODY_BYTES } from '../protocol/index.js';

/** Issue 3, must-hold 6: incoming endpoints are rate limited per address and per peer; oversize bodies are refused unread. */
describe('incoming limits', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.allSettled(stops.map((s) => s()));
  });

  it('limits each verified peer to its configured rate, with a signed 429 rate_limited that runs nothing', async () => {
    const pair: Pair = await startPair({ spokeConfig: { fedRatePerPeer: 4 } });
    stops.push(() => pair.stop());
    const { hub, spoke } = pair;
    const send = (command: string, args: Record<string, unknown>) => {
      const { bytes, signature } = sign(envelope('COMMAND', hub.identity.instanceId, spoke.identity.instanceId, { command, args }), hub.identity.privateKey);
      return postRaw(spoke, 'command', bytes, signature);
    };
    // The CONNECT counted as one; three more fit in the minute.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await send('agent.list', {})).status);
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await send('agent.spawn', spawnArgs());
    expect({ status: limited.status, code: limited.code }).toEqual({ status: 429, code: 'rate_limited' });
    expect(limited.signature).toMatch(/^ed25519=/);
    expect(await spoke.store.agents.list()).toEqual([]);
    // Another peer (here: an unknown one) is not held back by the hub's count; it is refused for its own reasons.
    expect((await postRaw(spoke, 'command', Buffer.from('{}'), undefined)).code).toBe('invalid_envelope');
  });

  it('limits each source address before anything is parsed, leaving the admin API alone', async () => {
    const t: TestInstance = await startTestInstance({ fedRatePerIp: 3 });
    stops.push(() => t.stop());
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 4; i += 1) codes.push((await postRaw(t, 'command', Buffer.from('not json'))).code);
    expect(codes).toEqual(['invalid_json', 'invalid_json', 'invalid_json', 'rate_limited']);
    const res = await fetch(`${t.url}/api/v1/federation/instance`);
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    expect((await t.api('GET', '/federation/connections')).status).toBe(200);
  });

  it('refuses a body over 1 MiB with 413 before parsing or verifying it', async () => {
    const pair: Pair = await startPair();
    stops.push(() => pair.stop());
    const { hub, spoke } = pair;
    const before = (await spoke.api<{ messages: unknown[] }>('GET', '/federation/messages')).body.messages.length;
    // A correctly signed envelope, padded to 1.5 MiB: refused for its size alone.
    const big = envelope('COMMAND', hub.identity.instanceId, spoke.identity.instanceId, {
      command: 'agent.spawn', args: spawnArgs({ prompt: 'x'.repeat(1.5 * 1024 * 1024) }),
    });
    const { bytes, signature } = sign(big, hub.identity.privateKey);
    expect(bytes.length).toBeGreaterThan(MAX_BODY_BYTES);
    const answer = await postRaw(spoke, 'command', bytes, signature);
    expect({ status: answer.status, code: answer.code }).toEqual({ status: 413, code: 'body_too_large' });
    expect(answer.signature).toBeNull();
    // Not JSON at all, and just as large: the same 413, so nothing was parsed.
    expect((await postRaw(spoke, 'command', Buffer.alloc(1.5 * 1024 * 1024, 0x7b))).code).toBe('body_too_large');
    expect((await spoke.api<{ messages: unknown[] }>('GET', '/federation/messages')).body.messages.length).toBe(before);
    expect(await spoke.store.agents.list()).toEqual([]);
  });
});
