import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { spawnCommand, waitForState } from '../../test-support/agents.js';
import { invite, postRaw, spawnRemote, startPair, TEST_GRANTS, type Pair } from '../../test-support/federation.js';
import { connectBody, envelope, party, sign } from '../../test-support/federation-forge.js';

type ErrorBody = { error: { code: string; details?: Record<string, unknown> } };

/**
 * Issue 3, must-hold 2 (grants, ownership, invites): refused with their own
 * codes through the hub's real API, and nothing runs on the spoke.
 */
describe('grants, ownership and invites', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair();
  });
  afterAll(async () => {
    await pair.stop();
  });

  const spokeAgents = async (): Promise<number> => (await pair.spoke.store.agents.list()).length;
  const grant = async (grants: Record<string, unknown>): Promise<void> => {
    const res = await pair.spoke.api('PATCH', `/federation/connections/hub`, { grants });
    expect(res.status).toBe(200);
  };

  async function refusedSpawn(extra: Record<string, unknown>, code: string, status: number): Promise<void> {
    const before = await spokeAgents();
    const res = await spawnRemote(pair.hub, 'sleep 30', extra);
    expect({ status: res.status, code: (res.body as unknown as ErrorBody).error?.code }).toEqual({ status, code });
    expect(await spokeAgents()).toBe(before);
  }

  it('refuses a command, repository or runtime outside the grant', async () => {
    await grant({ commands: ['agent.status'] });
    await refusedSpawn({}, 'command_not_granted', 403);
    await grant({ commands: TEST_GRANTS.commands, repos: ['other'] });
    await refusedSpawn({}, 'repo_not_granted', 403);
    const repoRefusal = await spawnRemote(pair.hub, 'sleep 30');
    expect((repoRefusal.body as unknown as { error: { message: string } }).error.message).toMatch(/^spoke has not granted this instance repository web; /);
    await grant({ repos: ['web'], runtimes: ['claude'] });
    await refusedSpawn({}, 'runtime_not_granted', 403);
    // No runtime means claude: refused the same way when only command is granted.
    await grant({ runtimes: ['command'] });
    const res = await pair.hub.api<ErrorBody>('POST', '/agents', { peer: 'spoke', repo: 'web', taskId: 'T', prompt: 'p' });
    expect(res.body.error.code).toBe('runtime_not_granted');
  });

  it('refuses env and bypassPermissions to a peer without the command runtime (they would run its own code)', async () => {
    await grant({ commands: TEST_GRANTS.commands, repos: ['web'], runtimes: ['claude'], maxActiveAgents: 5 });
    const before = await spokeAgents();
    const claude = { peer: 'spoke', repo: 'web', taskId: 'C', prompt: 'p' };
    const withEnv = await pair.hub.api<ErrorBody>('POST', '/agents', { ...claude, env: { NODE_OPTIONS: '--import=data:text/javascript,0' } });
    expect({ status: withEnv.status, code: withEnv.body.error.code }).toEqual({ status: 403, code: 'env_not_granted' });
    const bypass = await pair.hub.api<ErrorBody>('POST', '/agents', { ...claude, runtime: { kind: 'claude', permissionMode: 'bypassPermissions' } });
    expect({ status: bypass.status, code: bypass.body.error.code }).toEqual({ status: 403, code: 'permission_mode_not_granted' });
    expect(await spokeAgents()).toBe(before);
    // With the command runtime granted (it runs anything anyway), env is allowed.
    await grant({ runtimes: ['claude', 'command'] });
    const allowed = await spawnRemote(pair.hub, 'test "$GREETING" = hello', { taskId: 'E', env: { GREETING: 'hello' } });
    expect(allowed.status).toBe(202);
    expect((await waitForState(pair.spoke, allowed.body.id)).state).toBe('completed');
    await grant({ runtimes: TEST_GRANTS.runtimes });
  });

  it('refuses a spawn beyond maxActiveAgents, counting only active agents of that peer', async () => {
    await grant({ maxActiveAgents: 1 });
    // A local agent of the spoke does not count against the hub.
    const local = await spawnCommand(pair.spoke, 'sleep 30', { repo: 'web', taskId: 'local' });
    const first = await spawnRemote(pair.hub, 'sleep 30', { taskId: 'M1' });
    expect(first.status).toBe(202);
    await refusedSpawn({ taskId: 'M2' }, 'max_agents_exceeded', 429);
    // Read on the hub, the refusal speaks from the hub's side (issue 22, defect 7).
    const again = await spawnRemote(pair.hub, 'sleep 30', { taskId: 'M2' });
    const refusal = (again.body as unknown as ErrorBody & { error: { message: string } }).error;
    expect(refusal.message).toMatch(/^spoke allows at most 1 active agent from this instance \(1 active there now\); .*--max-agents N/);
    expect(refusal.details).toMatchObject({ peer: 'spoke', maxActiveAgents: 1, peerMessage: 'this peer may have at most 1 active agents here' });
    // Once the first ends, there is room again.
    await pair.hub.api('POST', `/agents/${first.body.id}/kill`);
    await waitForState(pair.spoke, first.body.id, ['killed']);
    const third = await spawnRemote(pair.hub, 'true', { taskId: 'M3' });
    expect(third.status).toBe(202);
    await waitForState(pair.spoke, third.body.id);
    await pair.spoke.api('POST', `/agents/${local.id}/kill`);
    await grant({ maxActiveAgents: 5 });
  });

  it('refuses status, logs and kill of an agent the peer did not spawn, and of unknown ids alike', async () => {
    const { hub, spoke } = pair;
    const local = await spawnCommand(spoke, 'sleep 30', { repo: 'web', taskId: 'mine' });
    const env = (command: string, agentId: string) =>
      sign(envelope('COMMAND', hub.identity.instanceId, spoke.identity.instanceId, { command, args: { agentId } }), hub.identity.privateKey);
    for (const command of ['agent.status', 'agent.kill', 'agent.logs', 'agent.diff']) {
      for (const id of [local.id, 'nosuchagent']) {
        const { bytes, signature } = env(command, id);
        const answer = await postRaw(spoke, 'command', bytes, signature);
        expect({ command, id, status: answer.status, code: answer.code }).toEqual({ command, id, status: 403, code: 'agent_not_owned' });
      }
    }
    const list = sign(envelope('COMMAND', hub.identity.instanceId, spoke.identity.instanceId, { command: 'agent.list', args: {} }), hub.identity.privateKey);
    const listed = await postRaw(spoke, 'command', list.bytes, list.signature);
    const agents = (listed.body.body?.result as { agents: PublicAgent[] }).agents;
    expect(agents.map((a) => a.id)).not.toContain(local.id);
    expect(agents.every((a) => a.origin === hub.identity.instanceId)).toBe(true);
    expect((await spoke.api<PublicAgent>('GET', `/agents/${local.id}`)).body.killRequested).toBe(false);
    await spoke.api('POST', `/agents/${local.id}/kill`);
  });

  it('refuses unknown, expired and used invite tokens, and never lets a token connect twice', async () => {
    const { spoke } = pair;
    const spokeId = spoke.identity.instanceId;
    const tryConnect = async (token: string) => {
      const who = party();
      const { bytes, signature } = sign(envelope('CONNECT', who.id, spokeId, connectBody(who, { token })), who.privateKey);
      return { who, answer: await postRaw(spoke, 'connect', bytes, signature) };
    };
    expect((await tryConnect('mosaic_inv_' + 'A'.repeat(43))).answer).toMatchObject({ status: 401, code: 'invite_invalid' });

    const short = await invite(spoke, TEST_GRANTS, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await tryConnect(short.token);
    expect(expired.answer).toMatchObject({ status: 403, code: 'invite_expired' });
    expect((await spoke.api('GET', `/federation/connections/${expired.who.id}`)).status).toBe(404);

    const { token } = await invite(spoke);
    const [a, b] = await Promise.all([tryConnect(token), tryConnect(token)]);
    const outcomes = [a.answer, b.answer].map((r) => r.code ?? 'ok').sort();
    expect(outcomes).toEqual(['invite_used', 'ok']);
    const winner = a.answer.code === undefined ? a.who : b.who;
    const loser = winner === a.who ? b.who : a.who;
    expect((await spoke.api<{ state: string }>('GET', `/federation/connections/${winner.id}`)).body.state).toBe('active');
    expect((await spoke.api('GET', `/federation/connections/${loser.id}`)).status).toBe(404);
    expect((await tryConnect(token)).answer).toMatchObject({ status: 403, code: 'invite_used' });
  });
});
