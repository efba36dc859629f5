import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import { fingerprint, rawPublicKey } from '../identity/index.js';
import { MAX_BODY_BYTES } from './constants.js';
import { errorBody, makeEnvelope, makeResponse, okBody, type Envelope, type MessageKind } from './envelope.js';
import { encodeSigned, signBytes } from './signing.js';
import { verifyInbound, verifyResponse, type PeerRecord } from './verify.js';

interface Party { id: string; raw: Buffer; privateKey: KeyObject }
function party(): Party {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  return { id: fingerprint(raw), raw, privateKey };
}

const hub = party();
const spoke = party();
const stranger = party();
const NOW = 1_700_000_000_000;

interface Peer extends PeerRecord { connectionId: string }
function lookup(state = 'active', who: Party = hub): (id: string) => Peer | undefined {
  return (id) => (id === who.id ? { state, publicKey: who.raw, connectionId: 'c1' } : undefined);
}

function command(overrides: Partial<Envelope> = {}): Envelope {
  return { ...makeEnvelope({ kind: 'COMMAND', from: hub.id, to: spoke.id, ts: NOW, body: { command: 'agent.list', args: {} } }), ...overrides };
}

function deliver(env: unknown, opts: { signer?: Party; kind?: MessageKind; state?: string; bytes?: Buffer; header?: string; lookupPeer?: (id: string) => Peer | undefined } = {}) {
  const bytes = opts.bytes ?? Buffer.from(JSON.stringify(env));
  return verifyInbound({
    bytes,
    signatureHeader: opts.header ?? signBytes((opts.signer ?? hub).privateKey, bytes),
    kind: opts.kind ?? 'COMMAND',
    self: spoke.id,
    now: NOW,
    lookupPeer: opts.lookupPeer ?? lookup(opts.state),
  });
}

function codeOf(fn: () => unknown): { code: string; status: number } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MosaicError);
    const e = err as MosaicError;
    return { code: e.code, status: e.status };
  }
  throw new Error('expected a rejection');
}

function connect(from: Party, keyOf: Party, extra: Record<string, unknown> = {}): Envelope {
  return makeEnvelope({
    kind: 'CONNECT', from: from.id, to: spoke.id, ts: NOW,
    body: { name: 'hub', url: 'http://127.0.0.1:7420', publicKey: keyOf.raw.toString('base64'), protocolVersion: '1', ...extra },
  });
}

describe('verifyInbound', () => {
  it('accepts a signed command from an active peer and returns the envelope id and the peer record', () => {
    const env = command();
    const { bytes, signature } = encodeSigned(env, hub.privateKey);
    const out = verifyInbound({ bytes, signatureHeader: signature, kind: 'COMMAND', self: spoke.id, now: NOW, lookupPeer: lookup() });
    expect(out.envelope.id).toBe(env.id);
    expect(out.envelope.body).toEqual({ command: 'agent.list', args: {} });
    expect(out.peer?.connectionId).toBe('c1');
  });

  it('rejects each failure with its own code and status', () => {
    const cases: Array<[string, () => unknown, string, number]> = [
      ['oversize', () => deliver(command(), { bytes: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) }), 'body_too_large', 413],
      ['malformed JSON', () => deliver(null, { bytes: Buffer.from('{"v":1,') }), 'invalid_json', 400],
      ['extra key', () => deliver({ ...command(), extra: true }), 'invalid_envelope', 400],
      ['protocol version', () => deliver({ ...command(), v: 2 }), 'unsupported_protocol_version', 400],
      ['route kind', () => deliver(command(), { kind: 'EVENT' }), 'kind_mismatch', 400],
      ['to another instance', () => deliver(command({ to: stranger.id })), 'wrong_recipient', 400],
      ['6 minutes old', () => deliver(command({ ts: NOW - 6 * 60_000 })), 'clock_skew', 401],
      ['6 minutes ahead', () => deliver(command({ ts: NOW + 6 * 60_000 })), 'clock_skew', 401],
      ['unknown from', () => deliver(command({ from: stranger.id }), { signer: stranger }), 'unknown_peer', 401],
      ['pending', () => deliver(command(), { state: 'pending' }), 'connection_pending', 403],
      ['suspended', () => deliver(command(), { state: 'suspended' }), 'connection_suspended', 403],
      ['rejected', () => deliver(command(), { state: 'rejected' }), 'connection_rejected', 403],
      ['disconnected', () => deliver(command(), { state: 'disconnected' }), 'connection_disconnected', 403],
      ['signed by another key', () => deliver(command(), { signer: stranger }), 'bad_signature', 401],
      ['no signature', () => deliver(command(), { header: '' }), 'bad_signature', 401],
    ];
    for (const [name, fn, code, status] of cases) {
      expect({ name, ...codeOf(fn) }).toEqual({ name, code, status });
    }
  });

  it('rejects a body changed after signing', () => {
    const { bytes, signature } = encodeSigned(command(), hub.privateKey);
    const tampered = Buffer.from(bytes.toString().replace('agent.list', 'agent.kill'));
    expect(tampered.equals(bytes)).toBe(false);
    expect(codeOf(() => deliver(null, { bytes: tampered, header: signature })).code).toBe('bad_signature');
    // The same JSON re-serialised with other whitespace is other bytes: still refused.
    const spaced = Buffer.from(JSON.stringify(JSON.parse(bytes.toString()), null, 1));
    expect(codeOf(() => deliver(null, { bytes: spaced, header: signature })).code).toBe('bad_signature');
  });

  it('checks in DESIGN order: expiry is reported before an unknown peer, a bad signature only for a known active peer', () => {
    const old = command({ from: stranger.id, ts: NOW - 10 * 60_000 });
    expect(codeOf(() => deliver(old, { header: 'ed25519=x' })).code).toBe('clock_skew');
    expect(codeOf(() => deliver(command(), { state: 'suspended', header: 'garbage' })).code).toBe('connection_suspended');
    expect(codeOf(() => deliver({ ...command({ to: stranger.id }), v: 3 })).code).toBe('unsupported_protocol_version');
  });

  it('accepts timestamps exactly at the skew limit', () => {
    expect(deliver(command({ ts: NOW - 5 * 60_000 })).envelope.ts).toBe(NOW - 5 * 60_000);
    expect(deliver(command({ ts: NOW + 5 * 60_000 })).envelope.ts).toBe(NOW + 5 * 60_000);
  });

  it('accepts DISCONNECT from a suspended or pending peer, but not from a disconnected one', () => {
    const bye = (): Envelope => makeEnvelope({ kind: 'DISCONNECT', from: hub.id, to: spoke.id, ts: NOW, body: {} });
    expect(deliver(bye(), { kind: 'DISCONNECT', state: 'suspended' }).peer?.state).toBe('suspended');
    expect(deliver(bye(), { kind: 'DISCONNECT', state: 'pending' }).peer?.state).toBe('pending');
    expect(codeOf(() => deliver(bye(), { kind: 'DISCONNECT', state: 'disconnected' })).code).toBe('connection_disconnected');
  });

  it('reports an unrecognised connection state as connection_inactive', () => {
    expect(codeOf(() => deliver(command(), { state: 'weird' }))).toEqual({ code: 'connection_inactive', status: 403 });
  });
});

describe('verifyInbound for CONNECT', () => {
  const noPeers = (): undefined => undefined;

  it('verifies with the key the body carries when no connection exists', () => {
    const out = deliver(connect(hub, hub, { token: 'mosaic_inv_x' }), { kind: 'CONNECT', lookupPeer: noPeers });
    expect(out.peer).toBeUndefined();
    expect(out.connect?.publicKeyRaw.equals(hub.raw)).toBe(true);
    expect(out.connect?.token).toBe('mosaic_inv_x');
  });

  it('returns the existing connection when there is one, whatever its state', () => {
    const out = deliver(connect(hub, hub), { kind: 'CONNECT', state: 'disconnected' });
    expect(out.peer?.state).toBe('disconnected');
  });

  it('rejects a CONNECT whose publicKey fingerprint is not from', () => {
    // Signed correctly by the stranger's key, but claiming the hub's id.
    const env = connect(hub, stranger);
    expect(codeOf(() => deliver(env, { kind: 'CONNECT', signer: stranger, lookupPeer: noPeers }))).toEqual({ code: 'fingerprint_mismatch', status: 401 });
  });

  it('rejects a CONNECT signed by a key other than the one it carries', () => {
    expect(codeOf(() => deliver(connect(hub, hub), { kind: 'CONNECT', signer: stranger, lookupPeer: noPeers })).code).toBe('bad_signature');
  });

  it('rejects a malformed CONNECT body, another protocol version, and a connection to itself', () => {
    expect(codeOf(() => deliver(connect(hub, hub, { publicKey: 'AAAA' }), { kind: 'CONNECT', lookupPeer: noPeers })).code).toBe('invalid_body');
    expect(codeOf(() => deliver(connect(hub, hub, { protocolVersion: '2' }), { kind: 'CONNECT', lookupPeer: noPeers })).code).toBe('unsupported_protocol_version');
    const self = makeEnvelope({ kind: 'CONNECT', from: spoke.id, to: spoke.id, ts: NOW,
      body: { name: 's', url: 'http://x', publicKey: spoke.raw.toString('base64'), protocolVersion: '1' } });
    expect(codeOf(() => deliver(self, { kind: 'CONNECT', signer: spoke, lookupPeer: noPeers })).code).toBe('self_connection');
  });
});

describe('verifyResponse', () => {
  const request = command();
  const expectation = { peerPublicKey: spoke.raw, requestId: request.id, self: hub.id, peerId: spoke.id, now: NOW };
  const answer = (env: Envelope, signer: Party = spoke) => encodeSigned(env, signer.privateKey);

  it('accepts the peer\'s signed answer to this request, ok or error', () => {
    const ok = answer(makeResponse(spoke.id, request, okBody({ agents: [] }), NOW));
    expect(verifyResponse(ok.bytes, ok.signature, expectation).body).toEqual({ ok: true, result: { agents: [] } });
    const err = answer(makeResponse(spoke.id, request, errorBody({ code: 'repo_not_granted', message: 'no' }), NOW));
    const body = verifyResponse(err.bytes, err.signature, expectation).body;
    expect(body.ok === false && body.error.code).toBe('repo_not_granted');
  });

  it('rejects a wrong correlationId, a forged signature, a wrong sender and a non-RESPONSE', () => {
    const other = answer(makeResponse(spoke.id, { id: command().id, from: hub.id }, okBody(1), NOW));
    expect(codeOf(() => verifyResponse(other.bytes, other.signature, expectation))).toEqual({ code: 'response_mismatch', status: 502 });
    const forged = answer(makeResponse(spoke.id, request, okBody(1), NOW), stranger);
    expect(codeOf(() => verifyResponse(forged.bytes, forged.signature, expectation))).toEqual({ code: 'bad_response_signature', status: 502 });
    const fromStranger = answer(makeResponse(stranger.id, request, okBody(1), NOW), stranger);
    expect(codeOf(() => verifyResponse(fromStranger.bytes, fromStranger.signature, expectation)).code).toBe('response_mismatch');
    const notResponse = answer(makeEnvelope({ kind: 'EVENT', from: spoke.id, to: hub.id, ts: NOW, correlationId: request.id, body: {} }));
    expect(codeOf(() => verifyResponse(notResponse.bytes, notResponse.signature, expectation)).code).toBe('response_mismatch');
    expect(codeOf(() => verifyResponse(Buffer.from('nope'), undefined, expectation)).code).toBe('invalid_response');
  });

  it('accepts a stored first-delivery response a few minutes old, not one from far outside the window', () => {
    const stored = answer(makeResponse(spoke.id, request, okBody(1), NOW - 8 * 60_000));
    expect(verifyResponse(stored.bytes, stored.signature, expectation).ts).toBe(NOW - 8 * 60_000);
    const ancient = answer(makeResponse(spoke.id, request, okBody(1), NOW - 60 * 60_000));
    expect(codeOf(() => verifyResponse(ancient.bytes, ancient.signature, expectation)).code).toBe('response_mismatch');
  });
});
