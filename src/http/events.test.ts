import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';

interface Frame { id: number; event: string; data: { id: string; state: string } }

/** Reads SSE frames from /events until `count` have arrived, then disconnects. */
async function readEvents(t: TestInstance, count: number, lastEventId?: number): Promise<Frame[]> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${t.adminToken}` };
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
  const res = await fetch(`${t.url}/api/v1/events`, { headers, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const frames: Frame[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const raw = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(raw.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        if (fields.data === undefined) continue;
        frames.push({ id: Number(fields.id), event: String(fields.event), data: JSON.parse(String(fields.data)) as Frame['data'] });
        if (frames.length >= count) return frames;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return frames;
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
