import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { invite, postRaw, spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import { envelope, sign, spawnArgs } from '../../test-support/federation-forge.js';
import { startLossyProxy, type LossyProxy } from '../../test-support/lossy-proxy.js';

type Message = { messageId: string; direction: string; op: string; status: string; attempts: number };

/** Issue 3, must-hold 3: a repeated message id gets the first answer and never runs twice. */
describe('replay protection', () => {
  let pair: Pair;
  let proxy: LossyProxy;
  beforeAll(async () => {
    pair = await startPair({ connect: false });
    proxy = await startLossyProxy(pair.spoke.url);
    // The hub reaches the spoke only through the proxy, which can lose replies.
    const { token } = await invite(pair.spoke);
    const res = await pair.hub.api('POST', '/federation/connections', { url: proxy.url, token, name: 'spoke' });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await proxy.close();
    await pair.stop();
  });

  const hubId = (): string => pair.hub.identity.instanceId;
  const spokeAgents = async (): Promise<PublicAgent[]> => (await pair.spoke.store.agents.list({ origin: hubId() })).map((a) => a as PublicAgent);

  it('answers the same signed spawn twice with the same response bytes, and runs it once', async () => {
    const before = (await spokeAgents()).length;
    const env = envelope('COMMAND', hubId(), pair.spoke.identity.instanceId, { command: 'agent.spawn', args: spawnArgs({ taskId: 'twice' }) });
    const { bytes, signature } = sign(env, pair.hub.identity.privateKey);
    const first = await postRaw(pair.spoke, 'command', bytes, signature);
    const second = await postRaw(pair.spoke, 'command', bytes, signature);
    expect(first.status).toBe(200);
    expect(second).toEqual(first);
    expect((await spokeAgents()).length).toBe(before + 1);
  });

  it('runs concurrent duplicates once: the repeat waits for the first answer', async () => {
    const before = (await spokeAgents()).length;
    const env = envelope('COMMAND', hubId(), pair.spoke.identity.instanceId, { command: 'agent.spawn', args: spawnArgs({ taskId: 'racing' }) });
    const { bytes, signature } = sign(env, pair.hub.identity.privateKey);
    const answers = await Promise.all([1, 2, 3].map(() => postRaw(pair.spoke, 'command', bytes, signature)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect((await spokeAgents()).length).toBe(before + 1);
  });

  it('spawns one agent when the reply is lost and the hub retries', async () => {
    const before = (await spokeAgents()).length;
    proxy.dropReplies('/api/v1/federation/incoming/command');
    const res = await spawnRemote(pair.hub, 'sleep 30', { taskId: 'lost' });
    expect(res.status).toBe(202);
    const agents = (await spokeAgents()).filter((a) => a.taskId === 'lost');
    expect(agents.map((a) => a.id)).toEqual([res.body.id]);
    expect((await spokeAgents()).length).toBe(before + 1);
    // Both sides list the one message, delivered after two attempts.
    const sent = (await pair.hub.api<{ messages: Message[] }>('GET', '/federation/messages?direction=out&kind=COMMAND')).body.messages[0]!;
    expect(sent).toMatchObject({ op: 'agent.spawn', status: 'delivered', attempts: 2 });
    const received = (await pair.spoke.api<{ messages: Message[] }>('GET', '/federation/messages?direction=in&kind=COMMAND')).body.messages
      .find((m) => m.messageId === sent.messageId);
    expect(received).toMatchObject({ status: 'delivered', attempts: 2 });
    await pair.hub.api('POST', `/agents/${res.body.id}/kill`);
  });
});
