import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { getAgent, waitForState } from '../test-support/agents.js';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';
import type { BudgetStatus } from './index.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../test-support/fake-claude.mjs', import.meta.url));
/** What one `[fake:success]` run reports (fake-claude.mjs). */
const FAKE_COST = 0.0123;

/** Issue 18, test 3: fleet budgets and per-agent budgets. */
describe('budgets', () => {
  let repo: TempDir;
  let t: TestInstance;
  let home: string;
  beforeAll(async () => {
    repo = await makeTempRepo();
    t = await startTestInstance({ claudeBin: FAKE_CLAUDE });
    home = t.home;
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  const spawn = async (body: Record<string, unknown>): Promise<PublicAgent> => {
    const res = await t.api<PublicAgent>('POST', '/agents', { repo: 'app', ...body });
    expect(res.status).toBe(202);
    return res.body;
  };
  const budget = async (scope: string): Promise<BudgetStatus> => (await t.api<BudgetStatus>('GET', `/budgets/${scope}`)).body;

  it('validates scopes and bodies with typed 400s', async () => {
    const bad = await t.api<{ error: { code: string } }>('PUT', '/budgets/galaxy', { usd: 1, per: 'day' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_scope');
    expect((await t.api('PUT', '/budgets/instance', { usd: -1, per: 'day' })).status).toBe(400);
    expect((await t.api('PUT', '/budgets/instance', { usd: 1, per: 'year' })).status).toBe(400);
    expect((await t.api('PUT', '/budgets/instance', { usd: '1', per: 'day' })).status).toBe(400);
    expect((await t.api('PUT', '/budgets/instance', { usd: 1, per: 'day', extra: true })).status).toBe(400);
    const missing = await t.api<{ error: { code: string } }>('GET', '/budgets/repo:nothing');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('budget_not_found');
    expect((await t.api('DELETE', '/budgets/repo:nothing')).status).toBe(404);
    expect((await t.api('POST', '/agents', { repo: 'app', taskId: 'x', prompt: 'p', budgetUsd: 0 })).status).toBe(400);
  });

  it('queues spawns in a spent scope and starts them when the budget is raised', async () => {
    const put = await t.api<BudgetStatus>('PUT', '/budgets/instance', { usd: 0.01, per: 'day' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ scope: 'instance', usd: 0.01, per: 'day', onExhausted: 'queue', spentUsd: 0, leftUsd: 0.01 });

    const first = await waitForState(t, (await spawn({ taskId: 'first', prompt: '[fake:success] one' })).id);
    expect(first.state).toBe('completed');
    expect(first.result?.costUsd).toBe(FAKE_COST);
    const spent = await waitFor(async () => ((await budget('instance')).leftUsd === 0 ? budget('instance') : undefined));
    expect(spent.spentUsd).toBeCloseTo(FAKE_COST, 6);
    expect(spent.resetsAt).toBeGreaterThan(Date.now());

    const second = await spawn({ taskId: 'second', prompt: '[fake:success] two' });
    const waiting = await waitFor(async () => {
      const a = await getAgent(t, second.id);
      return a.waitingFor ? a : undefined;
    });
    expect(waiting.state).toBe('queued');
    expect(waiting.waitingFor).toEqual({ reason: 'budget', scope: 'instance', resetsAt: spent.resetsAt });
    const listed = (await t.api<{ agents: PublicAgent[] }>('GET', '/agents?state=queued')).body.agents.find((a) => a.id === second.id);
    expect(listed?.waitingFor?.reason).toBe('budget');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await getAgent(t, second.id)).state).toBe('queued');

    expect((await t.api('PUT', '/budgets/instance', { usd: 1, per: 'day' })).status).toBe(200);
    const started = await waitForState(t, second.id);
    expect(started.state).toBe('completed');
    expect(started.waitingFor).toBeNull();
  }, 60_000);

  it('kills running agents when a kill budget is spent', async () => {
    const slow = await spawn({ taskId: 'slow', prompt: '[fake:slow] tick' });
    await waitForState(t, slow.id, ['running']);
    const used = (await budget('instance')).spentUsd;
    // Spent already: the running agent is killed at once.
    expect((await t.api('PUT', '/budgets/repo:app', { usd: used / 2, per: 'week', onExhausted: 'kill' })).status).toBe(200);
    const killed = await waitForState(t, slow.id, ['completed', 'failed', 'killed'], 30_000);
    expect(killed.state).toBe('killed');
    expect(killed.error?.code).toBe('budget_exceeded');
    expect(killed.error?.message).toContain('repo:app');
    expect((await t.api('DELETE', '/budgets/repo:app')).status).toBe(204);
  }, 60_000);

  it('kills an agent whose own running cost passes its budget, and passes it to claude as --max-budget-usd', async () => {
    // claude-sonnet-4-5 is in the price table: each of the fake's turns is estimated at $0.00108 while it runs.
    const agent = await spawn({ taskId: 'capped', prompt: '[fake:slow] tick', budgetUsd: 0.004, runtime: { kind: 'claude', model: 'claude-sonnet-4-5' } });
    expect(agent.budgetUsd).toBe(0.004);
    const ended = await waitForState(t, agent.id, ['completed', 'failed', 'killed'], 30_000);
    expect(ended.state).toBe('killed');
    expect(ended.error?.code).toBe('budget_exceeded');
    expect(ended.error?.message).toContain('budget $0.0040');
    const lines = (await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
    const argv = lines.find((l) => l.startsWith('fake-claude: argv '));
    expect(argv).toContain('"--max-budget-usd","0.004"');
  }, 60_000);

  it('keeps the spend across a restart', async () => {
    const before = await budget('instance');
    expect(before.spentUsd).toBeGreaterThan(2 * FAKE_COST - 1e-9);
    await t.stop(true);
    t = await startTestInstance({ claudeBin: FAKE_CLAUDE }, home);
    const after = await budget('instance');
    expect(after.spentUsd).toBeCloseTo(before.spentUsd, 6);
    const all = (await t.api<{ budgets: BudgetStatus[] }>('GET', '/budgets')).body.budgets;
    expect(all.map((b) => b.scope)).toEqual(['instance']);
  }, 60_000);
});
