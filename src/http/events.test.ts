import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { readSse } from '../test-support/sse.js';

interface Frame { id: number; event: string; data: { id: string; state: string } }

/** The first `count` frames of /events (after `lastEventId`), then disconnects. */
async function readEvents(t: TestInstance, count: number, lastEventId?: number): Promise<Frame[]> {
  const { status, contentType, events } = await readSse(t, '/events', (seen) => seen.length >= count, { lastEventId });
  expect(status).toBe(200);
  expect(contentType).toContain('text/event-stream');
  return events.map((e) => ({ id: Number(e.id), event: e.event, data: JSON.parse(e.data) as Frame['data'] }));
}

/** Issue 2, must-hold 9: /events streams every transition in order; Last-Event-ID resumes without gaps or duplicates. */
describe('event stream', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  beforeAll(async () => {
    repo = await makeTempRepo();
    t = await startTestInstance();
    await t.api('POST', '/repos', { name: 'app', path: repo.path });
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  it('streams every transition in order, live and on resume', async () => {
    const live = readEvents(t, 8); // two agents × queued, spawning, running, completed
    const agents = [await spawnCommand(t, 'echo one', { taskId: 'one' }), await spawnCommand(t, 'echo two', { taskId: 'two' })];
    await Promise.all(agents.map((a) => waitForState(t, a.id)));
    const frames = await live;
    expect(frames).toHaveLength(8);
    expect(frames.every((f) => f.event === 'agent.state')).toBe(true);
    const seqs = frames.map((f) => f.id);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(8);
    for (const agent of agents) {
      expect(frames.filter((f) => f.data.id === agent.id).map((f) => f.data.state)).toEqual(['queued', 'spawning', 'running', 'completed']);
    }

    // Resume after the third frame: exactly the rest, then new ones as they happen.
    const resumed = readEvents(t, 5 + 4, seqs[2]);
    const third = await spawnCommand(t, 'echo three', { taskId: 'three' });
    await waitForState(t, third.id);
    const rest = await resumed;
    expect(rest.map((f) => f.id).slice(0, 5)).toEqual(seqs.slice(3));
    expect(rest.slice(5).map((f) => f.data.state)).toEqual(['queued', 'spawning', 'running', 'completed']);
    const all = rest.map((f) => f.id);
    expect(new Set(all).size).toBe(all.length);
    for (let i = 1; i < all.length; i += 1) expect(all[i]).toBe((all[i - 1] ?? 0) + 1);
  });

  it('rejects a malformed Last-Event-ID', async () => {
    const res = await fetch(`${t.url}/api/v1/events`, { headers: { authorization: `Bearer ${t.adminToken}`, 'last-event-id': 'abc' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_last_event_id');
  });
});
