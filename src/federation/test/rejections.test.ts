import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRaw, startPair, type Pair } from '../../test-support/federation.js';
import { connectBody, envelope, party, sign, spawnArgs, type Party } from '../../test-support/federation-forge.js';
import { encodeSigned, type Envelope, type MessageKind } from '../protocol/index.js';

/**
 * Issue 3, must-hold 2 (message checks): each forged or unacceptable message
 * is refused with its own code and runs nothing on the spoke.
 */
describe('the spoke refuses unacceptable messages', () => {
  let pair: Pair;
  let hub: Party;
  beforeAll(async () => {
    pair = await startPair();
    hub = { id: pair.hub.identity.instanceId, raw: pair.hub.identity.publicKey, privateKey: pair.hub.identity.privateKey };
  });
  afterAll(async () => {
    await pair.stop();
  });

  const spokeId = (): string => pair.spoke.identity.instanceId;
  const spawn = (extra: Partial<Envelope> = {}): Envelope => envelope('COMMAND', hub.id, spokeId(), { command: 'agent.spawn', args: spawnArgs() }, extra);
  const agentCount = async (): Promise<number> => (await pair.spoke.store.agents.list()).length;

  async function refused(kind: MessageKind, bytes: Buffer, signature: string | undefined, code: string, status: number): Promise<void> {
    const before = await agentCount();
    const answer = await postRaw(pair.spoke, kind.toLowerCase(), bytes, signature);
    expect({ code: answer.code, status: answer.status }).toEqual({ code, status });
    expect(await agentCount()).toBe(before);
  }

  it('accepts a correctly signed spawn from the hub (the control case)', async () => {
    const { bytes, signature } = sign(spawn(), hub.privateKey);
    const answer = await postRaw(pair.spoke, 'command', bytes, signature);
    expect(answer.status).toBe(200);
    expect(answer.body.body?.ok).toBe(true);
    await pair.spoke.api('POST', `/agents/${(answer.body.body?.result as { agent: { id: string } }).agent.id}/kill`);
  });

  it('refuses a bad signature, and a body changed after signing', async () => {
    const forged = sign(spawn(), party().privateKey);
    await refused('COMMAND', forged.bytes, forged.signature, 'bad_signature', 401);
    await refused('COMMAND', sign(spawn(), hub.privateKey).bytes, undefined, 'bad_signature', 401);
    const { bytes, signature } = sign(spawn(), hub.privateKey);
    const tampered = Buffer.from(bytes.toString().replace('sleep 30', 'sleep 31'));
    expect(tampered.equals(bytes)).toBe(false);
    await refused('COMMAND', tampered, signature, 'bad_signature', 401);
  });

  it('refuses a message to another instance', async () => {
    const { bytes, signature } = sign(spawn({ to: party().id }), hub.privateKey);
    await refused('COMMAND', bytes, signature, 'wrong_recipient', 400);
  });

  it('refuses a timestamp 6 minutes old or 6 minutes ahead', async () => {
    const old = sign(spawn({ ts: Date.now() - 6 * 60_000 }), hub.privateKey);
    await refused('COMMAND', old.bytes, old.signature, 'clock_skew', 401);
    const ahead = sign(spawn({ ts: Date.now() + 6 * 60_000 }), hub.privateKey);
    await refused('COMMAND', ahead.bytes, ahead.signature, 'clock_skew', 401);
  });

  it('refuses an unknown sender', async () => {
    const stranger = party();
    const { bytes, signature } = sign(envelope('COMMAND', stranger.id, spokeId(), { command: 'agent.spawn', args: spawnArgs() }), stranger.privateKey);
    await refused('COMMAND', bytes, signature, 'unknown_peer', 401);
  });

  it('refuses a CONNECT whose public key is not the claimed instance id', async () => {
    const stranger = party();
    // Signed consistently by the stranger's key, but claiming to be the hub.
    const { bytes, signature } = sign(envelope('CONNECT', hub.id, spokeId(), connectBody(stranger)), stranger.privateKey);
    await refused('CONNECT', bytes, signature, 'fingerprint_mismatch', 401);
    expect((await pair.spoke.api<{ state: string }>('GET', `/federation/connections/${hub.id}`)).body.state).toBe('active');
  });

  it('refuses another protocol version, in the envelope and in CONNECT', async () => {
    const { bytes, signature } = sign({ ...spawn(), v: 2 } as unknown as Envelope, hub.privateKey);
    await refused('COMMAND', bytes, signature, 'unsupported_protocol_version', 400);
    const stranger = party();
    const connect = sign(envelope('CONNECT', stranger.id, spokeId(), connectBody(stranger, { protocolVersion: '2' })), stranger.privateKey);
    await refused('CONNECT', connect.bytes, connect.signature, 'unsupported_protocol_version', 400);
    expect((await pair.spoke.api('GET', `/federation/connections/${stranger.id}`)).status).toBe(404);
  });

  it('refuses spawn args that carry peer: nothing is forwarded onward', async () => {
    const env = envelope('COMMAND', hub.id, spokeId(), { command: 'agent.spawn', args: spawnArgs({ peer: 'elsewhere' }) });
    const { bytes, signature } = sign(env, hub.privateKey);
    await refused('COMMAND', bytes, signature, 'invalid_body', 400);
  });

  it('refuses messages over a pending, suspended, rejected or disconnected connection', async () => {
    const { spoke } = pair;
    const asks = (who: Party): { bytes: Buffer; signature: string } =>
      encodeSigned(envelope('COMMAND', who.id, spokeId(), { command: 'agent.spawn', args: spawnArgs() }), who.privateKey);

    // Pending: a request without a token.
    const pending = party();
    const request = sign(envelope('CONNECT', pending.id, spokeId(), connectBody(pending, { name: 'pending-peer' })), pending.privateKey);
    const answer = await postRaw(spoke, 'connect', request.bytes, request.signature);
    expect(answer.status).toBe(200);
    expect((answer.body.body?.result as { state: string }).state).toBe('pending');
    let m = asks(pending);
    await refused('COMMAND', m.bytes, m.signature, 'connection_pending', 403);

    // Rejected by the spoke's admin.
    expect((await spoke.api<{ state: string }>('POST', `/federation/connections/${pending.id}/reject`)).body.state).toBe('rejected');
    m = asks(pending);
    await refused('COMMAND', m.bytes, m.signature, 'connection_rejected', 403);

    // Suspended: the hub's own connection, resumed afterwards.
    expect((await spoke.api<{ state: string }>('PATCH', `/federation/connections/${hub.id}`, { state: 'suspended' })).body.state).toBe('suspended');
    m = asks(hub);
    await refused('COMMAND', m.bytes, m.signature, 'connection_suspended', 403);
    expect((await spoke.api<{ state: string }>('PATCH', `/federation/connections/${hub.id}`, { state: 'active' })).body.state).toBe('active');

    // Disconnected: accepted once, then disconnected by the spoke.
    const gone = party();
    const again = sign(envelope('CONNECT', gone.id, spokeId(), connectBody(gone, { name: 'gone-peer' })), gone.privateKey);
    await postRaw(spoke, 'connect', again.bytes, again.signature);
    expect((await spoke.api<{ state: string }>('POST', `/federation/connections/${gone.id}/disconnect`)).body.state).toBe('disconnected');
    m = asks(gone);
    await refused('COMMAND', m.bytes, m.signature, 'connection_disconnected', 403);
  });

  it('answers refusals of parsed envelopes with a RESPONSE signed by the spoke, and lists them unverified', async () => {
    const forged = sign(spawn(), party().privateKey);
    const answer = await postRaw(pair.spoke, 'command', forged.bytes, forged.signature);
    expect(answer.signature).toMatch(/^ed25519=/);
    expect(answer.body.body?.ok).toBe(false);
    const id = (JSON.parse(forged.bytes.toString()) as Envelope).id;
    const { body } = await pair.spoke.api<{ messages: { messageId: string; status: string; verified: boolean; errorCode: string }[] }>('GET', '/federation/messages?direction=in');
    expect(body.messages.find((msg) => msg.messageId === id)).toMatchObject({ status: 'failed', verified: false, errorCode: 'bad_signature' });
  });
});
