import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForState } from '../../test-support/agents.js';
import { spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import { readSse } from '../../test-support/sse.js';

type Message = { op: string | null; direction: string; kind: string };

/**
 * Issue 22, defect 6: following a remote agent's log long-polls its peer —
 * one agent.logs request at a time, each waiting on the spoke for the next
 * line — instead of polling five times a second; and the default message
 * list leaves those reads out.
 */
describe('following a remote agent\'s log', () => {
  let pair: Pair;
  beforeAll(async () => {
    // A hub timeout of 10 s lets one read wait up to 9 s on the spoke.
    pair = await startPair({ hubConfig: { fedTimeoutMs: 10_000 } });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('asks the spoke once per wait while the agent is quiet, and gets every line and the end', async () => {
    const { hub } = pair;
    const agent = (await spawnRemote(hub, 'echo first; sleep 6; echo second', { taskId: 'quiet' })).body;
    await waitForState(hub, agent.id, ['running'], 60_000);
    const before = (await hub.api<{ messages: Message[] }>('GET', '/federation/messages?op=agent.logs&direction=out&limit=1000')).body.messages.length;

    const { events } = await readSse(hub, `/agents/${agent.id}/logs?follow=1`, (list) => list.some((e) => e.event === 'end'), { timeoutMs: 60_000 });
    const lines = events.filter((e) => e.event === 'lines').flatMap((e) => (JSON.parse(e.data) as { lines: string[] }).lines);
    expect(lines).toEqual(['first', 'second']);
    expect(events.at(-1)?.event).toBe('end');
    expect((await waitForState(hub, agent.id, ['completed'], 30_000)).state).toBe('completed');

    const reads = (await hub.api<{ messages: Message[] }>('GET', '/federation/messages?op=agent.logs&direction=out&limit=1000')).body.messages.length - before;
    // 6 quiet seconds: polling every 200 ms sent about 30; long polling sends a handful (one per line burst or wait).
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(6);

    // The admin's default list leaves log reads out; logs=1 shows them.
    const shown = (await hub.api<{ messages: Message[] }>('GET', '/federation/messages?limit=1000')).body.messages;
    expect(shown.some((m) => m.op === 'agent.spawn')).toBe(true);
    expect(shown.filter((m) => m.op === 'agent.logs')).toEqual([]);
    const all = (await hub.api<{ messages: Message[] }>('GET', '/federation/messages?limit=1000&logs=1')).body.messages;
    expect(all.filter((m) => m.op === 'agent.logs').length).toBeGreaterThanOrEqual(reads);
  }, 120_000);
});
