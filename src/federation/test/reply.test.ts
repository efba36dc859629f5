import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { git, waitForState } from '../../test-support/agents.js';
import { spawnRemote, startPair, TEST_GRANTS, type Pair } from '../../test-support/federation.js';

type ApiError = { error: { code: string; message: string } };

// Appends the agent's prompt to notes.txt and commits: a follow-up's file has both instructions.
const NOTE = 'echo "$MOSAIC_PROMPT" >> notes.txt && git add notes.txt && git commit -qm "$MOSAIC_AGENT_ID"';

/**
 * Issue 22, follow-ups of remote agents: the hub's reply goes to the peer
 * running the agent (`agent.reply`), which checks it as a spawn (granted
 * with agent.spawn, repo, runtime, maxActiveAgents) and runs the follow-up
 * on the old agent's branch tip; the hub mirrors it like a spawn's answer.
 */
describe('reply to a remote agent', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  const grant = async (grants: Record<string, unknown>) => {
    expect((await pair.spoke.api('PATCH', '/federation/connections/hub', { grants })).status).toBe(200);
  };

  it('runs the follow-up on the spoke, on the old branch tip, owned by the hub and mirrored there', async () => {
    const { hub, spoke, repo } = pair;
    const first = await waitForState(hub, (await spawnRemote(hub, NOTE, { taskId: 'notes', prompt: 'first instruction' })).body.id, ['completed'], 60_000);
    const res = await hub.api<PublicAgent>('POST', `/agents/${first.id}/reply`, { prompt: 'second instruction' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const reply = res.body;
    expect(reply).toMatchObject({
      instance: spoke.identity.instanceId, peer: 'spoke', origin: hub.identity.instanceId, taskId: 'notes', repo: 'web',
      prompt: 'second instruction', followUpOf: { agentId: first.id, continue: true, resumed: null },
    });
    expect(reply.branch).toBe(`agent-${reply.id}-notes`);
    const onSpoke = await waitForState(spoke, reply.id, ['completed'], 60_000);
    expect(onSpoke.followUpOf?.startPoint).toBe(git(repo.path, 'rev-parse', first.branch));
    expect(git(repo.path, 'show', `${onSpoke.branch}:notes.txt`).split('\n')).toEqual(['first instruction', 'second instruction']);
    // The mirror follows it, and the hub lists it with its link.
    const mirrored = await waitForState(hub, reply.id, ['completed'], 30_000);
    expect(mirrored.followUpOf?.agentId).toBe(first.id);
  }, 120_000);

  it('is refused while the remote agent runs, and by the spoke\'s grant: no agent.spawn, or no room', async () => {
    const { hub, spoke } = pair;
    const done = await waitForState(hub, (await spawnRemote(hub, NOTE, { taskId: 'g' })).body.id, ['completed'], 60_000);
    const running = await spawnRemote(hub, 'exec sleep 120', { taskId: 'busy' });
    await waitForState(spoke, running.body.id, ['running'], 60_000);
    try {
      const busy = await hub.api<ApiError>('POST', `/agents/${running.body.id}/reply`, { prompt: 'more' });
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe('agent_not_finished');

      await grant({ ...TEST_GRANTS, maxActiveAgents: 1 });
      const full = await hub.api<ApiError>('POST', `/agents/${done.id}/reply`, { prompt: 'more' });
      expect(full.status).toBe(429);
      expect(full.body.error.code).toBe('max_agents_exceeded');

      await grant({ ...TEST_GRANTS, commands: TEST_GRANTS.commands.filter((c) => c !== 'agent.spawn') });
      const denied = await hub.api<ApiError>('POST', `/agents/${done.id}/reply`, { prompt: 'more' });
      expect(denied.status).toBe(403);
      expect(denied.body.error.code).toBe('command_not_granted');
      expect(denied.body.error.message).toContain('agent.spawn');
      expect((await spoke.api<{ agents: PublicAgent[] }>('GET', '/agents?taskId=g')).body.agents).toHaveLength(1); // nothing started
    } finally {
      await grant(TEST_GRANTS);
      await hub.api('POST', `/agents/${running.body.id}/kill`);
      await waitForState(spoke, running.body.id, ['killed'], 60_000);
    }
  }, 180_000);
});
