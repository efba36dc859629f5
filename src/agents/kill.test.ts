import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAgent, groupAlive, groupMembers, spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

const GRACE_MS = 400;
/** A tree: sh → two sleeps, one of which ignores SIGTERM so only SIGKILL ends it. */
const TREE = "sleep 300 & sh -c 'trap \"\" TERM; sleep 300 & wait' & wait";

async function runningTree(t: TestInstance, taskId: string): Promise<{ id: string; pgid: number }> {
  const agent = await waitForState(t, (await spawnCommand(t, TREE, { taskId })).id, ['running']);
  const pgid = agent.pgid;
  if (pgid === null || pgid === undefined) throw new Error('running agent without pgid');
  // Wait until the whole tree is up: sh, the first sleep, the inner sh and its sleep.
  const deadline = Date.now() + 5000;
  while ((groupMembers(pgid) ?? []).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect((groupMembers(pgid) ?? []).length).toBeGreaterThanOrEqual(4);
  return { id: agent.id, pgid };
}

async function waitGone(pgid: number, withinMs: number): Promise<number> {
  const started = Date.now();
  while (groupAlive(pgid) && Date.now() - started < withinMs + 2000) await new Promise((r) => setTimeout(r, 20));
  return Date.now() - started;
}

/** Issue 2, must-hold 3: kill ends the whole process tree within the grace period + 1 s. */
describe('kill', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { killGraceMs: GRACE_MS } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  it('ends an agent with grandchildren, including one ignoring SIGTERM', async () => {
    const { id, pgid } = await runningTree(t, 'tree');
    const res = await t.api('POST', `/agents/${id}/kill`);
    expect(res.status).toBe(202);
    const took = await waitGone(pgid, GRACE_MS + 1000);
    expect(groupAlive(pgid)).toBe(false);
    expect(took).toBeLessThanOrEqual(GRACE_MS + 1000);
    expect((await waitForState(t, id)).state).toBe('killed');
  });

  it('kill-all ends every active agent, queued ones included', async () => {
    const trees = await Promise.all([runningTree(t, 'all-1'), runningTree(t, 'all-2')]);
    const res = await t.api<{ total: number; killed: number; failed: number }>('POST', '/agents/kill-all');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: 2, killed: 2, failed: 0 });
    const started = Date.now();
    for (const { pgid } of trees) await waitGone(pgid, GRACE_MS + 1000);
    expect(Date.now() - started).toBeLessThanOrEqual(GRACE_MS + 1000);
    for (const { id, pgid } of trees) {
      expect(groupAlive(pgid)).toBe(false);
      expect((await waitForState(t, id)).state).toBe('killed');
    }
  });

  it('answers 409 for a finished agent and 404 for an unknown one', async () => {
    const done = await waitForState(t, (await spawnCommand(t, 'true', { taskId: 'done' })).id);
    const again = await t.api<{ error: { code: string } }>('POST', `/agents/${done.id}/kill`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('agent_not_active');
    expect((await getAgent(t, done.id)).state).toBe('completed');
    const missing = await t.api<{ error: { code: string } }>('POST', '/agents/nosuchagent/kill');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('agent_not_found');
  });
});
