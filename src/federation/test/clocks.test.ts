import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { waitForState } from '../../test-support/agents.js';
import { FAST_FEDERATION, freePort, postRaw, spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import { envelope, sign, spawnArgs } from '../../test-support/federation-forge.js';
import { startTestInstance } from '../../test-support/instance.js';
import { waitFor } from '../../test-support/wait.js';
import { PeerRateLimiter } from '../inbound/rate-limit.js';

/**
 * Issue 7, must-hold 6: clocks. A message refused for its timestamp answers
 * `clock_skew` with both clocks; outbox retry timing and rate-limit windows
 * survive a backward step of the wall clock.
 */
describe('clocks', () => {
  let pair: Pair | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await pair?.stop();
    pair = undefined;
  });

  it('answers clock_skew with both clocks in the details', async () => {
    pair = await startPair();
    const { hub, spoke } = pair;
    const ts = Date.now() - 6 * 60_000;
    const env = envelope('COMMAND', hub.identity.instanceId, spoke.identity.instanceId, { command: 'agent.spawn', args: spawnArgs() }, { ts });
    const { bytes, signature } = sign(env, hub.identity.privateKey);
    const answer = await postRaw(spoke, 'command', bytes, signature);
    expect(answer.status).toBe(401);
    const error = answer.body.body?.error as { code: string; details?: Record<string, number> };
    expect(error.code).toBe('clock_skew');
    expect(error.details?.senderTs).toBe(ts);
    expect(Math.abs((error.details?.receiverTs ?? 0) - Date.now())).toBeLessThan(60_000);
    expect(error.details?.maxSkewMs).toBe(5 * 60_000);
  });

  it('keeps rate-limit windows on a monotonic clock when the wall clock steps back', () => {
    const limiter = new PeerRateLimiter(2, 50);
    limiter.take('p');
    limiter.take('p');
    expect(() => limiter.take('p')).toThrow(/retry/);
    // The wall clock jumps back an hour: the window still ends on time.
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() - 3_600_000);
    const until = performance.now() + 60;
    while (performance.now() < until) { /* wait out the 50 ms window */ }
    expect(() => limiter.take('p')).not.toThrow();
  });

  it('delivers queued events at once after the wall clock stepped back', { timeout: 60_000 }, async () => {
    const hubPort = await freePort();
    pair = await startPair({ hubConfig: { port: hubPort } });
    let { hub } = pair;
    const { spoke } = pair;
    const hubId = hub.identity.instanceId;
    // Signalled through the agent's own worktree: a sandboxed agent sees nothing else.
    const spawned = await spawnRemote(hub, 'while [ ! -f .clock-go ]; do sleep 0.05; done', { taskId: 'clock' });
    expect(spawned.status).toBe(202);
    const local = { agent: spawned.body };
    await waitForState(spoke, local.agent.id, ['running']);
    // The hub goes away; the agent ends and its events queue.
    await hub.stop(true);
    writeFileSync(join(local.agent.worktreePath, '.clock-go'), '');
    await waitForState(spoke, local.agent.id, ['completed']);
    await waitFor(async () => (await spoke.federation.store.outbox.pending(hubId)).length > 0, { what: 'queued events' });
    // As if the wall clock went back an hour after the retries were scheduled.
    for (const row of (await spoke.federation.store.outbox.pending(hubId))) {
      await spoke.federation.store.outbox.retryLater(hubId, row.seq, Date.now() + 3_600_000, 'clock test');
    }
    hub = await startTestInstance({ name: 'hub', port: hubPort, ...FAST_FEDERATION }, hub.home);
    pair.hub = hub;
    await waitFor(async () => (await spoke.federation.store.outbox.pending(hubId)).length === 0, { timeoutMs: 15_000, what: 'the outbox to drain' });
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${local.agent.id}`)).body.state === 'completed', { what: 'the mirror to be completed' });
  });
});
