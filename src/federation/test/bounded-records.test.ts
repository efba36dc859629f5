import { afterEach, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { waitForState } from '../../test-support/agents.js';
import { FAKE_CLAUDE_BIN } from '../../test-support/index.js';
import { spawnRemote, startPair, TEST_GRANTS, type Pair } from '../../test-support/federation.js';
import { startLossyProxy, type LossyProxy } from '../../test-support/lossy-proxy.js';
import { waitFor } from '../../test-support/wait.js';
import { TRUNCATED_MARKER } from '../handlers/bounded-agent.js';

/**
 * Issue 7, must-hold 1: no event can block a peer's delivery. An agent
 * record larger than one signed message (a 1.5 MiB claude result) reaches
 * the hub cut with a marker, in push and in pull mode; a delivery the hub
 * refuses for good is marked failed and skipped, and later events still flow.
 */
describe('bounded agent records and non-retryable deliveries', () => {
  let pair: Pair | undefined;
  let proxy: LossyProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await pair?.stop();
    pair = undefined;
    proxy = undefined;
  });

  const grants = { ...TEST_GRANTS, runtimes: ['command', 'claude'] };

  async function bigThenSmall(p: Pair): Promise<void> {
    const { hub, spoke } = p;
    const longPrompt = `[fake:big-result] ${'p'.repeat(100_000)}`;
    const big = await hub.api<PublicAgent>('POST', '/agents', { peer: 'spoke', repo: 'web', taskId: 'big', prompt: longPrompt, runtime: { kind: 'claude' } });
    expect(big.status).toBe(202);
    // The spawn answer itself is bounded: the 100 KB prompt comes back cut.
    expect(big.body.prompt.endsWith(TRUNCATED_MARKER)).toBe(true);
    const local = await waitForState(spoke, big.body.id, ['completed', 'failed']);
    expect(local.state).toBe('completed');
    // On the instance that ran it, the full values stay readable.
    expect(local.result?.summary?.length).toBe(4 + 1536 * 1024);
    expect(local.prompt).toBe(longPrompt);

    const small = await spawnRemote(hub, 'echo after', { taskId: 'small' });
    expect(small.status).toBe(202);
    const mirroredBig = await waitFor(async () => {
      const a = (await hub.api<PublicAgent>('GET', `/agents/${big.body.id}`)).body;
      return a.state === 'completed' ? a : null;
    }, { timeoutMs: 20_000, what: 'the big agent to be completed on the hub' });
    expect(mirroredBig.result?.summary?.startsWith('BIG:xxx')).toBe(true);
    expect(mirroredBig.result?.summary?.endsWith(TRUNCATED_MARKER)).toBe(true);
    expect(mirroredBig.result!.summary!.length).toBeLessThan(20_000);
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${small.body.id}`)).body.state === 'completed',
      { timeoutMs: 20_000, what: 'the small agent to be completed on the hub' });
    const states = (await hub.store.events.after(0, 10_000)).filter((e) => e.agentId === small.body.id).map((e) => e.data.state);
    expect(states).toEqual(['queued', 'spawning', 'running', 'completed']);
  }

  it('pushes a record over 1 MiB cut with a marker, and later events still flow', { timeout: 60_000 }, async () => {
    pair = await startPair({ grants, spokeConfig: { claudeBin: FAKE_CLAUDE_BIN } });
    await bigThenSmall(pair);
    const hubId = pair.hub.identity.instanceId;
    await waitFor(async () => (await pair!.spoke.federation.store.outbox.pending(hubId)).length === 0, { what: 'the outbox to drain' });
  });

  it('pulls a record over 1 MiB cut with a marker, and later events still flow', { timeout: 60_000 }, async () => {
    pair = await startPair({ grants, pull: true, spokeConfig: { claudeBin: FAKE_CLAUDE_BIN } });
    // Only the pull path may deliver here: the spoke cannot reach the hub.
    await pair.spoke.federation.store.connections.update(pair.spokeConn.id, { url: 'http://127.0.0.1:9' });
    await bigThenSmall(pair);
  });

  it('marks a delivery refused with a non-retryable status failed and delivers the next ones in order', { timeout: 60_000 }, async () => {
    pair = await startPair();
    const { hub, spoke } = pair;
    proxy = await startLossyProxy(hub.url);
    // The spoke reaches the hub through the proxy, which refuses the first event with a plain 413.
    await spoke.federation.store.connections.update(pair.spokeConn.id, { url: proxy.url });
    proxy.failWith('/api/v1/federation/incoming/event', 413, 1);
    const agent = await spawnRemote(hub, 'echo hi', { taskId: 'refused' });
    expect(agent.status).toBe(202);
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${agent.body.id}`)).body.state === 'completed',
      { timeoutMs: 20_000, what: 'the agent to be completed on the hub' });
    const sent = (await spoke.store.events.after(0, 10_000)).filter((e) => e.agentId === agent.body.id);
    const got = (await hub.store.events.after(0, 10_000)).filter((e) => e.agentId === agent.body.id).map((e) => e.data.state);
    // The first event was refused and skipped; the others arrived, in order.
    expect(got).toEqual(sent.slice(1).map((e) => e.data.state));
    const failedMessages = (await spoke.api<{ messages: { status: string; httpStatus: number | null }[] }>('GET', '/federation/messages?direction=out&kind=EVENT')).body.messages
      .filter((m) => m.status === 'failed');
    expect(failedMessages).toHaveLength(1);
    expect(failedMessages[0]!.httpStatus).toBe(413);
    expect((await spoke.federation.store.outbox.pending(hub.identity.instanceId))).toEqual([]);
  });
});
