import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';

const FAKE = fileURLToPath(new URL('../test-support/fake-agent-cli.mjs', import.meta.url));

/** Issue 18, test 3: a per-agent budget kills a Codex-format agent whose cumulative usage passes it. */
describe('per-agent budget on codex', () => {
  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { codexBin: FAKE } });
  });
  afterAll(() => env.stop());

  it('kills the agent with budget_exceeded once its estimated running cost passes the budget', async () => {
    const { t } = env;
    // gpt-6-sol (codex's default in the price table): each of the fake's turns adds about $0.023.
    const res = await t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'spender', prompt: '[fake:spend] work', runtime: { kind: 'codex' }, budgetUsd: 0.05 });
    expect(res.status).toBe(202);
    const ended = await waitForState(t, res.body.id, ['completed', 'failed', 'killed'], 60_000);
    expect(ended.state).toBe('killed');
    expect(ended.error?.code).toBe('budget_exceeded');
    const spent = ended.result?.costUsd ?? ended.progress?.costUsd;
    expect(spent).toBeGreaterThan(0.05);
    // Killed within a few turns of passing it (the fake would spend for 10 minutes).
    expect(spent).toBeLessThan(0.5);
  }, 90_000);
});
