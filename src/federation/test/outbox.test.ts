import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { waitForState } from '../../test-support/agents.js';
import { FAST_FEDERATION, freePort, spawnRemote, startPair } from '../../test-support/federation.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { waitFor } from '../../test-support/wait.js';

/**
 * Issue 3, must-hold 4: with the hub down, the spoke's events wait in its
 * outbox — also across a restart of the spoke — and reach the restarted hub
 * once each, in order per agent.
 */
describe('event outbox', () => {
  const running: TestInstance[] = [];
  const cleanups: (() => void)[] = [];
  afterAll(async () => {
    await Promise.allSettled(running.map((t) => t.stop()));
    cleanups.forEach((c) => c());
  });

  it('delivers every event exactly once, in order, after the hub and the spoke restart', async () => {
    const [hubPort, spokePort] = [await freePort(), await freePort()];
    const pair = await startPair({ hubConfig: { port: hubPort }, spokeConfig: { port: spokePort } });
    let { hub, spoke } = pair;
    running.push(hub, spoke);
    cleanups.push(() => pair.repo.cleanup());
    const hubId = hub.identity.instanceId;
    // Signals go through each agent's own worktree: all a sandboxed agent sees.
    const signal = (agent: PublicAgent, name: string): string => join(agent.worktreePath, name);
    const waitScript = (name: string): string => `echo started; while [ ! -f ${name} ]; do sleep 0.05; done; echo finished`;

    const a = (await spawnRemote(hub, waitScript('go-a'), { taskId: 'A' })).body;
    const b = (await spawnRemote(hub, waitScript('go-b'), { taskId: 'B' })).body;
    for (const agent of [a, b]) await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${agent.id}`)).body.state === 'running', { timeoutMs: 10_000 });

    // The hub goes away; A ends while it is down.
    await hub.stop(true);
    running.splice(running.indexOf(hub), 1);
    writeFileSync(signal(a, 'go-a'), '');
    await waitForState(spoke, a.id, ['completed']);
    const queued = await waitFor(async () => (await spoke.federation.store.outbox.pending(hubId)).length > 0 || null, { timeoutMs: 2000 });
    expect(queued).toBe(true);
    // The outbox worker tries the hub and records the failed attempt (on its own schedule, hence the wait).
    const failedSend = await waitFor(async () => {
      const sends = (await spoke.api<{ messages: { kind: string; status: string }[] }>('GET', '/federation/messages?direction=out&kind=EVENT')).body.messages;
      return sends.some((m) => m.status === 'failed') || null;
    }, { timeoutMs: 10_000, what: 'a failed EVENT send to the stopped hub' });
    expect(failedSend).toBe(true);

    // The spoke restarts too; B ends while it is down, and is recorded when it comes back.
    await spoke.stop(true);
    running.splice(running.indexOf(spoke), 1);
    writeFileSync(signal(b, 'go-b'), '');
    spoke = await startTestInstance({ name: 'spoke', port: spokePort, ...FAST_FEDERATION }, spoke.home);
    running.push(spoke);
    await waitForState(spoke, b.id, ['completed']);
    expect((await spoke.federation.store.outbox.pending(hubId)).length).toBeGreaterThan(0);

    // The hub comes back on its old address: everything arrives.
    hub = await startTestInstance({ name: 'hub', port: hubPort, ...FAST_FEDERATION }, hub.home);
    running.push(hub);
    await waitFor(async () => (await spoke.federation.store.outbox.pending(hubId)).length === 0, { timeoutMs: 10_000, what: 'the outbox to drain' });

    for (const agent of [a, b]) {
      const sent = (await spoke.store.events.after(0, 10_000)).filter((e) => e.agentId === agent.id).map((e) => e.data.state);
      const got = (await hub.store.events.after(0, 10_000)).filter((e) => e.agentId === agent.id).map((e) => e.data.state);
      expect(sent).toEqual(['queued', 'spawning', 'running', 'completed']);
      expect(got).toEqual(sent);
      const mirrored = await hub.api<PublicAgent>('GET', `/agents/${agent.id}`);
      expect(mirrored.body).toMatchObject({ state: 'completed', instance: spoke.identity.instanceId, exitCode: 0 });
    }
    // The mirror records the last applied seq: a redelivery of any of them changes nothing.
    const last = (await hub.federation.store.mirror.get(b.id))!;
    expect(last.lastSeq).toBe(Math.max(...(await spoke.store.events.after(0, 10_000)).filter((e) => e.agentId === b.id).map((e) => e.seq)));
  });
});
