import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from './index.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

/** Issue 2, must-hold 4: at most MOSAIC_MAX_AGENTS run, by priority then age; a full queue is 429. */
describe('scheduler', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { maxAgents: 2, maxQueue: 4 } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  it('runs at most two at a time, highest priority first then oldest, and refuses beyond the queue', async () => {
    // Hold the two slots with agents that wait for a release file in their own worktree (all a sandboxed
    // agent sees), so the order of the rest is decided by the queue.
    const gate = '.release';
    const blockers = [
      await spawnCommand(t, `while [ ! -f '${gate}' ]; do sleep 0.05; done; rm '${gate}'`, { taskId: 'block-1' }),
      await spawnCommand(t, `while [ ! -f '${gate}' ]; do sleep 0.05; done; rm '${gate}'`, { taskId: 'block-2' }),
    ];
    await Promise.all(blockers.map((b) => waitForState(t, b.id, ['running'])));

    const queued: PublicAgent[] = [];
    for (const [taskId, priority] of [['low-old', 2], ['high', 9], ['low-new', 2], ['mid', 5]] as const) {
      queued.push(await spawnCommand(t, 'sleep 0.3', { taskId, priority }));
    }
    const refused = await t.api<{ error: { code: string } }>('POST', '/agents', {
      repo: 'app', taskId: 'overflow', prompt: 'p', runtime: { kind: 'command', argv: ['true'] },
    });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('queue_full');

    const { writeFileSync } = await import('node:fs');
    for (const b of blockers) writeFileSync(join(b.worktreePath, gate), '');
    const ended = await Promise.all([...blockers, ...queued].map((a) => waitForState(t, a.id)));
    expect(ended.every((a) => a.state === 'completed')).toBe(true);

    // The scheduler moves agents to `spawning` one at a time; the event log shows its order.
    const events = await t.store.events.after(0, 1000);
    const started = events.filter((e) => e.data.state === 'spawning').map((e) => e.data.taskId);
    expect(started).toEqual(['block-1', 'block-2', 'high', 'mid', 'low-old', 'low-new']);

    // Never more than two running at once: replay start/end times of all six.
    const spans = ended.map((a) => [a.startedAt ?? 0, a.endedAt ?? 0] as const);
    const points = spans.flatMap(([s, e]) => [[s, 1], [e, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let live = 0;
    let peak = 0;
    for (const [, delta] of points) peak = Math.max(peak, (live += delta));
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
  });
});
