import { afterEach, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { connectionOn, invite, postRaw, spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import { envelope, sign, spawnArgs } from '../../test-support/federation-forge.js';
import type { TestInstance } from '../../test-support/instance.js';
import { waitFor } from '../../test-support/wait.js';

/** A signed COMMAND from `from` to `to`, posted raw: what a peer that ignores the disconnect would send. */
async function commandFrom(from: TestInstance, to: TestInstance, command = 'agent.list', args: Record<string, unknown> = {}) {
  const { bytes, signature } = sign(envelope('COMMAND', from.identity.instanceId, to.identity.instanceId, { command, args }), from.identity.privateKey);
  return postRaw(to, 'command', bytes, signature);
}

/** Issue 3, must-hold 7: a disconnect from either side is honoured by both. */
describe('disconnect', () => {
  let pair: Pair | undefined;
  afterEach(async () => {
    await pair?.stop();
    pair = undefined;
  });

  async function expectEndedBothWays(p: Pair): Promise<void> {
    const { hub, spoke } = p;
    await waitFor(async () => (await connectionOn(spoke, hub.identity.instanceId)).state === 'disconnected', { timeoutMs: 3000 });
    expect((await connectionOn(hub, 'spoke')).state).toBe('disconnected');
    const toSpoke = await commandFrom(hub, spoke, 'agent.spawn', spawnArgs());
    expect({ status: toSpoke.status, code: toSpoke.code }).toEqual({ status: 403, code: 'connection_disconnected' });
    const toHub = await commandFrom(spoke, hub);
    expect({ status: toHub.status, code: toHub.code }).toEqual({ status: 403, code: 'connection_disconnected' });
    const viaApi = await spawnRemote(hub, 'true');
    expect({ status: viaApi.status, code: (viaApi.body as unknown as { error: { code: string } }).error.code }).toEqual({ status: 409, code: 'peer_not_active' });
    expect((await spoke.store.agents.list({ taskId: 'forged' })).length).toBe(0);
  }

  it('from the hub: the spoke is told, and each side refuses the other afterwards', async () => {
    pair = await startPair();
    const res = await pair.hub.api<{ state: string }>('POST', '/federation/connections/spoke/disconnect');
    expect(res).toMatchObject({ status: 200, body: { state: 'disconnected' } });
    await expectEndedBothWays(pair);
    const told = (await pair.spoke.api<{ messages: { kind: string; status: string }[] }>('GET', '/federation/messages?direction=in&kind=DISCONNECT')).body.messages;
    expect(told.map((m) => m.status)).toEqual(['delivered']);
  });

  it('from the spoke: the hub is told, its agents there stop reporting, and a new invite reconnects', async () => {
    pair = await startPair();
    const { hub, spoke } = pair;
    const sleeper = (await spawnRemote(hub, 'sleep 30', { taskId: 'S' })).body;
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${sleeper.id}`)).body.state === 'running', { timeoutMs: 10_000 });
    const res = await spoke.api<{ state: string }>('POST', `/federation/connections/${hub.identity.instanceId}/disconnect`);
    expect(res.body.state).toBe('disconnected');
    await waitFor(async () => (await connectionOn(hub, 'spoke')).state === 'disconnected', { timeoutMs: 3000 });
    await expectEndedBothWays(pair);

    // The spoke's admin ends the agent; its transition is not pushed to a disconnected hub.
    await spoke.api('POST', `/agents/${sleeper.id}/kill`);
    await waitFor(async () => (await spoke.api<PublicAgent>('GET', `/agents/${sleeper.id}`)).body.state === 'killed', { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await hub.api<PublicAgent>('GET', `/agents/${sleeper.id}`)).body.state).toBe('running');

    // A new invite re-activates the same connection on both sides, and the queued events follow.
    const { token } = await invite(spoke);
    const again = await hub.api<{ state: string; id: string }>('POST', '/federation/connections', { url: spoke.url, token });
    expect(again).toMatchObject({ status: 201, body: { state: 'active', id: pair.hubConn.id } });
    expect((await connectionOn(spoke, hub.identity.instanceId)).state).toBe('active');
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${sleeper.id}`)).body.state === 'killed', { timeoutMs: 3000 });
  });
});
