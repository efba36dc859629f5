import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { getAgent, spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, startTestInstance, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { waitFor } from '../test-support/wait.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../test-support/fake-claude.mjs', import.meta.url));

/** Issue 18, test 4: a runtime's rate limit pauses its spawns until the reset; the agent it failed is retried once. */
describe('rate limits', () => {
  let env: InstanceWithRepo;
  let t: TestInstance;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { claudeBin: FAKE_CLAUDE } });
    t = env.t;
  });
  afterAll(() => env.stop());

  const spawn = async (body: Record<string, unknown>): Promise<PublicAgent> => {
    const res = await t.api<PublicAgent>('POST', '/agents', { repo: 'app', ...body });
    expect(res.status).toBe(202);
    return res.body;
  };
  const retriesOf = async (id: string): Promise<PublicAgent[]> =>
    (await t.api<{ agents: PublicAgent[] }>('GET', '/agents')).body.agents.filter((a) => a.retryOf?.agentId === id);

  it('pauses claude until the reset while command agents run, then starts the waiting agent and retries the failed one once', async () => {
    const limited = await spawn({ taskId: 'limited', prompt: '[fake:rate-limit] work', env: { FAKE_CLAUDE_RESET_S: '15' } });
    const failed = await waitForState(t, limited.id);
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('rate_limited');

    const limits = (await t.api<{ limits: Array<{ runtime: string; state: string; resetsAt: number }> }>('GET', '/limits')).body.limits;
    const pause = limits.find((l) => l.runtime === 'claude');
    expect(pause?.state).toBe('paused');
    const resetsAt = pause!.resetsAt;
    expect(resetsAt).toBeGreaterThan(Date.now());
    const health = (await t.api<{ limits: Array<{ runtime: string; state: string }> }>('GET', '/health')).body;
    expect(health.limits).toEqual([expect.objectContaining({ runtime: 'claude', state: 'paused' })]);

    // A claude spawn now waits, marked; a command spawn runs meanwhile.
    const waiting = await spawn({ taskId: 'waiting', prompt: '[fake:success] after the reset' });
    const marked = await waitFor(async () => {
      const a = await getAgent(t, waiting.id);
      return a.waitingFor ? a : undefined;
    }, { timeoutMs: 10_000 });
    expect(marked.state).toBe('queued');
    expect(marked.waitingFor).toEqual({ reason: 'rate_limit', runtime: 'claude', resetsAt });
    const command = await spawnCommand(t, 'echo ran', { taskId: 'cmd' });
    const ran = await waitForState(t, command.id);
    expect(ran.state).toBe('completed');
    expect(ran.endedAt!).toBeLessThan(resetsAt); // it ran during the pause
    if (Date.now() < resetsAt - 500) expect((await getAgent(t, waiting.id)).state).toBe('queued');

    // The failed agent's one retry waits too.
    const [retry] = await retriesOf(limited.id);
    expect(retry).toBeDefined();
    expect(retry!.retryOf).toMatchObject({ agentId: limited.id, reason: 'rate_limit' });

    // After the reset both start by themselves.
    const done = await waitForState(t, waiting.id, ['completed', 'failed', 'killed'], 60_000);
    expect(done.state).toBe('completed');
    expect(done.startedAt!).toBeGreaterThanOrEqual(resetsAt);
    expect(done.waitingFor).toBeNull();
    const retried = await waitForState(t, retry!.id, ['completed', 'failed', 'killed'], 60_000);
    expect(retried.startedAt!).toBeGreaterThanOrEqual(resetsAt);
    // The fake is limited again: the retry fails the same way and is not retried (once, no more).
    expect(retried.error?.code).toBe('rate_limited');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await retriesOf(retry!.id)).toEqual([]);
    expect(await retriesOf(limited.id)).toHaveLength(1);
  }, 150_000);
});

describe('a rate-limit retry missed by a stop', () => {
  it('is queued at the next start, once: the retry is keyed by the failed agent', async () => {
    const repo = await makeTempRepo();
    // The first run fails the agent but retries nothing, as a server stopped right after the failure would.
    let t = await startTestInstance({ claudeBin: FAKE_CLAUDE, rateLimitRetry: false });
    const home = t.home;
    try {
      expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
      const limited = (await t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'limited', prompt: '[fake:rate-limit] work', env: { FAKE_CLAUDE_RESET_S: '2' } })).body;
      expect((await waitForState(t, limited.id)).error?.code).toBe('rate_limited');
      const retriesOf = async (): Promise<PublicAgent[]> =>
        (await t.api<{ agents: PublicAgent[] }>('GET', '/agents')).body.agents.filter((a) => a.retryOf?.agentId === limited.id);
      expect(await retriesOf()).toEqual([]);
      for (let start = 0; start < 2; start++) {
        await t.stop(true);
        t = await startTestInstance({ claudeBin: FAKE_CLAUDE, pollMs: 50 }, home);
        const retries = await waitFor(async () => { const r = await retriesOf(); return r.length > 0 ? r : undefined; }, { timeoutMs: 10_000 });
        expect(retries).toHaveLength(1);
        expect(retries[0]!.retryOf).toMatchObject({ agentId: limited.id, reason: 'rate_limit' });
      }
    } finally {
      await t.stop();
      repo.cleanup();
    }
  }, 90_000);
});
