import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invite, spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import { startLossyProxy, type LossyProxy } from '../../test-support/lossy-proxy.js';

interface Message {
  messageId: string; direction: 'in' | 'out'; kind: string; op: string | null; status: string;
  attempts: number; httpStatus: number | null; errorCode: string | null; peerName: string | null;
}

const COMMAND_PATH = '/api/v1/federation/incoming/command';

/** Issue 3, must-hold 5: every sent and received message is listed with its status; retries for network errors and 5xx, never 4xx. */
describe('message tracking and retries', () => {
  let pair: Pair;
  let proxy: LossyProxy;
  beforeAll(async () => {
    pair = await startPair({ connect: false, hubConfig: { fedTimeoutMs: 400, fedRetries: 2 } });
    proxy = await startLossyProxy(pair.spoke.url);
    const { token } = await invite(pair.spoke);
    expect((await pair.hub.api('POST', '/federation/connections', { url: proxy.url, token, name: 'spoke' })).status).toBe(201);
  });
  afterAll(async () => {
    await proxy.close();
    await pair.stop();
  });

  const messages = async (side: 'hub' | 'spoke', query = ''): Promise<Message[]> =>
    (await pair[side].api<{ messages: Message[] }>('GET', `/federation/messages${query}`)).body.messages;
  const lastSent = async (): Promise<Message> => (await messages('hub', '?direction=out&kind=COMMAND&limit=1'))[0]!;

  it('lists the CONNECT as sent and delivered on the hub, received and delivered on the spoke', async () => {
    const sent = (await messages('hub', '?kind=CONNECT'))[0]!;
    expect(sent).toMatchObject({ direction: 'out', op: 'connect', status: 'delivered', attempts: 1, httpStatus: 200, peerName: 'spoke' });
    const received = (await messages('spoke', '?kind=CONNECT&direction=in')).find((m) => m.messageId === sent.messageId);
    expect(received).toMatchObject({ direction: 'in', status: 'delivered', peerName: 'hub' });
    // The token is never part of what is listed.
    expect(JSON.stringify(await messages('spoke'))).not.toContain('mosaic_inv_');
  });

  it('does not retry a refusal (4xx): one attempt, failed, on both sides', async () => {
    const res = await spawnRemote(pair.hub, 'true', { repo: 'elsewhere' });
    expect(res.status).toBe(403);
    const sent = await lastSent();
    expect(sent).toMatchObject({ op: 'agent.spawn', status: 'failed', attempts: 1, httpStatus: 403, errorCode: 'repo_not_granted' });
    const received = (await messages('spoke', '?direction=in&status=failed')).find((m) => m.messageId === sent.messageId);
    expect(received).toMatchObject({ status: 'failed', errorCode: 'repo_not_granted', attempts: 1 });

    // A 4xx that is not even an envelope (here from the network path) is not retried either.
    proxy.failWith(COMMAND_PATH, 404);
    const refused = await spawnRemote(pair.hub, 'true');
    expect(refused.status).toBe(502);
    expect(await lastSent()).toMatchObject({ status: 'failed', attempts: 1, httpStatus: 404, errorCode: 'peer_rejected' });
  });

  it('retries 5xx with the same message, and delivers it once the peer recovers', async () => {
    proxy.failWith(COMMAND_PATH, 503, 2);
    const res = await spawnRemote(pair.hub, 'true', { taskId: 'retried' });
    expect(res.status).toBe(202);
    expect(await lastSent()).toMatchObject({ op: 'agent.spawn', status: 'delivered', attempts: 3, httpStatus: 200 });
    expect((await pair.spoke.store.agents.list({ taskId: 'retried' })).length).toBe(1);
  });

  it('gives up after its retries: timeout when the peer never answers, failed when it cannot be reached', async () => {
    proxy.hang(COMMAND_PATH, 3);
    const hung = await spawnRemote(pair.hub, 'true', { taskId: 'hung' });
    expect(hung.status).toBe(504);
    expect(await lastSent()).toMatchObject({ status: 'timeout', attempts: 3, errorCode: 'peer_timeout' });

    await proxy.close();
    const gone = await spawnRemote(pair.hub, 'true', { taskId: 'gone' });
    expect(gone.status).toBe(502);
    expect(await lastSent()).toMatchObject({ status: 'failed', attempts: 3, errorCode: 'peer_unreachable' });
    // Filters combine; the list is newest first.
    const failed = await messages('hub', '?direction=out&status=failed&peer=spoke');
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed.every((m) => m.status === 'failed' && m.direction === 'out')).toBe(true);
  });
});
