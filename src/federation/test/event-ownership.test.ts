import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { waitForState } from '../../test-support/agents.js';
import { postRaw, spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import { envelope, sign } from '../../test-support/federation-forge.js';

/**
 * Issue 7, must-hold 10: the hub mirrors only what it spawned. An EVENT
 * about an agent this instance never spawned on that peer — even one that
 * names this instance as its origin — is refused `agent_not_owned`, so a
 * peer cannot plant agents in `list --all`, `/events` or kill-all.
 */
describe('the hub mirrors only agents it spawned on that peer', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair();
  });
  afterAll(async () => {
    await pair.stop();
  });

  const planted = (id: string): Record<string, unknown> => {
    const now = Date.now();
    return {
      id, state: 'running', taskId: 'planted', type: 'worker', repo: 'web', branch: `agent-${id}-planted`, baseBranch: 'main',
      worktreePath: '/tmp/x', runtime: { kind: 'command', argv: ['sleep', '1000'] }, prompt: 'p', priority: 5, timeoutS: null,
      origin: pair.hub.identity.instanceId, idempotencyKey: null, pid: 1, pgid: 1, port: null, exitCode: null, error: null,
      result: null, progress: null, killRequested: false, createdAt: now, startedAt: now, endedAt: null, updatedAt: now,
    };
  };

  async function pushFromSpoke(agent: Record<string, unknown>, seq: number): Promise<{ status: number; code: string | undefined }> {
    const { hub, spoke } = pair;
    const env = envelope('EVENT', spoke.identity.instanceId, hub.identity.instanceId, { event: 'agent.state', seq, agent });
    const { bytes, signature } = sign(env, spoke.identity.privateKey);
    const answer = await postRaw(hub, 'event', bytes, signature);
    return { status: answer.status, code: answer.code };
  }

  it('refuses an event about an agent it never spawned, with this instance as origin', async () => {
    const answer = await pushFromSpoke(planted('plantedagent1'), 1_000_000);
    expect(answer).toEqual({ status: 403, code: 'agent_not_owned' });
    const all = (await pair.hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all')).body.agents;
    expect(all.map((a) => a.id)).not.toContain('plantedagent1');
    const events = await pair.hub.store.events.after(0, 10_000);
    expect(events.some((e) => e.agentId === 'plantedagent1')).toBe(false);
    const killAll = (await pair.hub.api<{ total: number }>('POST', '/agents/kill-all')).body;
    expect(killAll.total).toBe(0);
  });

  it('still mirrors the agents it spawned there (events may overtake the spawn answer)', async () => {
    const res = await spawnRemote(pair.hub, 'echo ok', { taskId: 'real' });
    expect(res.status).toBe(202);
    await waitForState(pair.hub, res.body.id, ['completed']);
    const states = (await pair.hub.store.events.after(0, 10_000)).filter((e) => e.agentId === res.body.id).map((e) => e.data.state);
    expect(states).toEqual(['queued', 'spawning', 'running', 'completed']);
  });
});
