import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { waitForState } from '../../test-support/agents.js';
import { spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import type { TestInstance } from '../../test-support/instance.js';
import { readSse } from '../../test-support/sse.js';
import { waitFor } from '../../test-support/wait.js';
import type { SseEvent } from '../../cli/client.js';

type Page = { lines: string[]; next: number; ended: boolean };

/** The `agent.state` frames of `/events` for one agent, until `count` have arrived. */
async function sseFrames(t: TestInstance, agentId: string, count: number): Promise<{ id: number; data: PublicAgent }[]> {
  const mine = (events: SseEvent[]) => events
    .filter((e) => e.event === 'agent.state')
    .map((e) => ({ id: Number(e.id), data: JSON.parse(e.data) as PublicAgent }))
    .filter((frame) => frame.data.id === agentId);
  const { events } = await readSse(t, '/events', (seen) => mine(seen).length >= count, { timeoutMs: 5000 });
  return mine(events);
}

/** Issue 3, must-hold 1: a remote spawn runs on the spoke; the hub's mirror and /events follow it; remote kill ends it. */
describe('remote agents', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair();
  });
  afterAll(async () => {
    await pair.stop();
  });

  it('connects both sides active by invite, with the invite grants on the spoke', () => {
    expect(pair.hubConn).toMatchObject({ state: 'active', direction: 'outbound', name: 'spoke', instanceId: pair.spoke.identity.instanceId });
    expect(pair.hubConn.peerGrants).toMatchObject({ repos: ['web'], runtimes: ['command'], maxActiveAgents: 5 });
    expect(pair.spokeConn).toMatchObject({ state: 'active', direction: 'inbound', name: 'hub', instanceId: pair.hub.identity.instanceId });
    expect(pair.spokeConn.grants).toMatchObject({ repos: ['web'], runtimes: ['command'], maxActiveAgents: 5 });
  });

  it('runs the agent on the spoke in a worktree there, and the mirror follows every state within a second', async () => {
    const { hub, spoke } = pair;
    const res = await spawnRemote(hub, 'echo remote-hello; echo work > remote.txt; while [ ! -f go-1 ]; do sleep 0.05; done; echo done');
    const go = join(res.body.worktreePath, 'go-1'); // its own worktree: all a sandboxed agent sees
    expect(res.status).toBe(202);
    const mirrored = res.body;
    expect(mirrored).toMatchObject({ instance: spoke.identity.instanceId, peer: 'spoke', repo: 'web', taskId: 'T1', origin: hub.identity.instanceId });

    // The agent exists on the spoke, owned by the hub, with its worktree on the spoke.
    const onSpoke = await waitForState(spoke, mirrored.id, ['running']);
    expect(onSpoke.origin).toBe(hub.identity.instanceId);
    expect(onSpoke.worktreePath.startsWith(`${pair.repo.path}_worktrees`)).toBe(true);
    expect(existsSync(onSpoke.worktreePath)).toBe(true);
    // Not a local agent of the hub.
    expect((await hub.api<{ agents: PublicAgent[] }>('GET', '/agents')).body.agents).toEqual([]);

    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${mirrored.id}`)).body.state === 'running', { timeoutMs: 1000 });
    writeFileSync(go, '');
    const final = await waitForState(hub, mirrored.id, ['completed'], 10_000);
    expect(final).toMatchObject({ state: 'completed', instance: spoke.identity.instanceId, peer: 'spoke', exitCode: 0 });

    // Every spoke transition reached the hub's event log, in order, within a second.
    const spokeEvents = (await spoke.store.events.after(0, 1000)).filter((e) => e.agentId === mirrored.id);
    const hubEvents = await waitFor(async () => {
      const events = (await hub.store.events.after(0, 1000)).filter((e) => e.agentId === mirrored.id);
      return events.length >= spokeEvents.length ? events : null;
    }, { timeoutMs: 2000 });
    expect(spokeEvents.map((e) => e.data.state)).toEqual(['queued', 'spawning', 'running', 'completed']);
    expect(hubEvents.map((e) => e.data.state)).toEqual(spokeEvents.map((e) => e.data.state));
    spokeEvents.forEach((e, i) => expect(hubEvents[i]!.createdAt - e.createdAt).toBeLessThan(1000));
    expect(hubEvents.every((e) => (e.data as PublicAgent).instance === spoke.identity.instanceId)).toBe(true);
    // ...and the hub's own /events stream carries them like local transitions.
    const frames = await sseFrames(hub, mirrored.id, 4);
    expect(frames.map((f) => f.data.state)).toEqual(['queued', 'spawning', 'running', 'completed']);
    expect(frames.map((f) => f.id)).toEqual(hubEvents.map((e) => e.seq));
    expect(frames[3]!.data).toMatchObject({ peer: 'spoke', instance: spoke.identity.instanceId });

    // Logs and diff of the remote agent come from the spoke.
    const logs = await hub.api<Page>('GET', `/agents/${mirrored.id}/logs`);
    expect(logs.status).toBe(200);
    expect(logs.body.lines).toEqual(expect.arrayContaining(['remote-hello', 'done']));
    expect(logs.body.ended).toBe(true);
    const after = await hub.api<Page>('GET', `/agents/${mirrored.id}/logs?after=${logs.body.next}`);
    expect(after.body.lines).toEqual([]);
    const follow = await hub.api<string>('GET', `/agents/${mirrored.id}/logs?follow=1`);
    expect(follow.body).toContain('remote-hello');
    expect(follow.body).toContain('event: end');
    const diff = await hub.api<string>('GET', `/agents/${mirrored.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body).toContain('+work');
  });

  it('lists remote agents with scope=all only, and kills them through the spoke', async () => {
    const { hub, spoke } = pair;
    const sleeper = (await spawnRemote(hub, 'sleep 300', { taskId: 'T2' })).body;
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${sleeper.id}`)).body.state === 'running', { timeoutMs: 10_000 });
    const all = await hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all');
    expect(all.body.agents.map((a) => a.id)).toContain(sleeper.id);
    const running = await hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all&state=running&taskId=T2');
    expect(running.body.agents.map((a) => a.id)).toEqual([sleeper.id]);
    expect((await hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=local')).body.agents).toEqual([]);

    const kill = await hub.api<PublicAgent>('POST', `/agents/${sleeper.id}/kill`);
    expect(kill.status).toBe(202);
    expect(kill.body.instance).toBe(spoke.identity.instanceId);
    expect((await waitForState(spoke, sleeper.id, ['killed'])).state).toBe('killed');
    expect((await waitForState(hub, sleeper.id, ['killed'], 2000)).state).toBe('killed');

    // Discarding a remote agent forgets the mirror entry; the spoke keeps its record.
    expect((await hub.api('DELETE', `/agents/${sleeper.id}`)).status).toBe(204);
    expect((await hub.api('GET', `/agents/${sleeper.id}`)).status).toBe(404);
    expect((await spoke.api('GET', `/agents/${sleeper.id}`)).status).toBe(200);
  });

  it('kill-all on the hub kills its remote agents too', async () => {
    const { hub, spoke } = pair;
    const a = (await spawnRemote(hub, 'sleep 300', { taskId: 'K1' })).body;
    const report = await hub.api<{ total: number; killed: number; failed: number }>('POST', '/agents/kill-all');
    expect(report.body).toMatchObject({ total: 1, killed: 1, failed: 0 });
    expect((await waitForState(spoke, a.id, ['killed'])).state).toBe('killed');
  });
});
