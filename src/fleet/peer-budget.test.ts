import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { getAgent, waitForState } from '../test-support/agents.js';
import { startPair, type Pair } from '../test-support/federation.js';
import { waitFor } from '../test-support/wait.js';
import type { BudgetStatus } from './index.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../test-support/fake-claude.mjs', import.meta.url));

/** Issue 18, test 3: a peer's grant maxCostUsdPerDay queues that peer's spawns on the spoke once spent. */
describe('peer daily cost cap', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({
      spokeConfig: { claudeBin: FAKE_CLAUDE },
      grants: { commands: ['agent.spawn', 'agent.status', 'agent.list', 'agent.kill'], repos: ['web'], runtimes: ['claude'], maxActiveAgents: 5, maxCostUsdPerDay: 0.01 },
    });
  });
  afterAll(() => pair.stop());

  const spawnClaude = async (taskId: string): Promise<PublicAgent> => {
    const res = await pair.hub.api<PublicAgent>('POST', '/agents', { peer: 'spoke', repo: 'web', taskId, prompt: '[fake:success] remote work' });
    expect(res.status).toBe(202);
    return res.body;
  };

  it('holds the peer\'s next spawn queued on the spoke once its day is spent', async () => {
    const { spoke } = pair;
    const peerScope = `peer:${pair.spokeConn.name}`;
    const first = await spawnClaude('first');
    expect((await waitForState(spoke, first.id, ['completed', 'failed', 'killed'], 60_000)).state).toBe('completed');
    const cap = await waitFor(async () => {
      const b = (await spoke.api<{ budgets: BudgetStatus[] }>('GET', '/budgets')).body.budgets.find((x) => x.scope === peerScope);
      return b && b.leftUsd === 0 ? b : undefined;
    });
    expect(cap).toMatchObject({ usd: 0.01, per: 'day', onExhausted: 'queue', fromGrant: true });

    const second = await spawnClaude('second');
    const held = await waitFor(async () => {
      const a = await getAgent(spoke, second.id);
      return a.waitingFor ? a : undefined;
    }, { timeoutMs: 20_000 });
    expect(held.state).toBe('queued');
    expect(held.waitingFor).toEqual({ reason: 'budget', scope: peerScope, resetsAt: cap.resetsAt });
    // A local spawn on the spoke is not the peer's: it runs.
    const local = await spoke.api<PublicAgent>('POST', '/agents', { repo: 'web', taskId: 'own', prompt: 'p', runtime: { kind: 'command', argv: ['true'] } });
    expect((await waitForState(spoke, local.body.id)).state).toBe('completed');
    expect((await getAgent(spoke, second.id)).state).toBe('queued');
  }, 120_000);
});
