import { MosaicError } from '../../core/errors.js';
import { fingerprint } from '../identity/index.js';
import { parseConnectBody, parseResponseBody, type ConnectBody } from './bodies.js';
import { CLOCK_SKEW_MS, CONNECTION_STATES, MAX_BODY_BYTES, REPLAY_WINDOW_MS } from './constants.js';
import { parseEnvelope, ProtocolError, type Envelope, type JsonObject, type MessageKind, type ResponseBody } from './envelope.js';
import { verifyBytes } from './signing.js';

/** What the receiver knows about a peer; callers may return richer records (ids, grants) and get them back. */
export interface PeerRecord {
  state: string;
  /** Raw 32-byte Ed25519 public key stored for the peer. */
  publicKey: Buffer;
}

export interface InboundInput<P extends PeerRecord> {
  bytes: Buffer;
  signatureHeader: string | undefined;
  /** The kind the route implies (`incoming/command` → COMMAND). */
  kind: MessageKind;
  /** This instance's id. */
  self: string;
  now: number;
  lookupPeer(instanceId: string): P | undefined;
  /** Connection states accepted for this message; defaults to acceptedStates(kind). */
  allowedStates?: readonly string[];
}

export interface VerifiedInbound<P extends PeerRecord> {
  /** Carries `id` for the caller's replay check, keyed by (`from`, `id`). */
  envelope: Envelope<JsonObject>;
  /** The connection; for CONNECT only if one already exists. */
  peer?: P;
  /** CONNECT's parsed body (its key has been checked against `from`). */
  connect?: ConnectBody;
}

/**
 * Which connection states a message kind is accepted from. Everything needs
 * an active connection, except DISCONNECT: a peer we suspended, or whose
 * request is still pending, must still be able to end the connection so both
 * sides agree on its state.
 */
export function acceptedStates(kind: MessageKind): readonly string[] {
  return kind === 'DISCONNECT' ? ['active', 'suspended', 'pending'] : ['active'];
}

function inactive(state: string): ProtocolError {
  const known = (CONNECTION_STATES as readonly string[]).includes(state) && state !== 'active';
  return new ProtocolError(403, known ? `connection_${state}` : 'connection_inactive', `the connection with this peer is ${state}`, { state });
}

/**
 * The receiver's checks, in DESIGN §4 order: size → JSON and shape →
 * protocol version → `to` is this instance → timestamp within the skew →
 * connection exists and accepts this kind → signature with the peer's stored
 * key. CONNECT has no connection yet: `from` must be the fingerprint of the
 * key in its body, and that key verifies the signature. The replay check
 * (`id` not seen before) and grants are the caller's next steps.
 */
export function verifyInbound<P extends PeerRecord>(input: InboundInput<P>): VerifiedInbound<P> {
  const { bytes, self, now } = input;
  if (bytes.length > MAX_BODY_BYTES) {
    throw new ProtocolError(413, 'body_too_large', `message is ${bytes.length} bytes; the limit is ${MAX_BODY_BYTES}`, { limit: MAX_BODY_BYTES });
  }
  const envelope = parseEnvelope(bytes);
  if (input.kind === 'RESPONSE' || envelope.kind !== input.kind) {
    throw new ProtocolError(400, 'kind_mismatch', `a ${envelope.kind} message cannot be delivered as ${input.kind}`, { field: 'kind' });
  }
  if (envelope.to !== self) {
    throw new ProtocolError(400, 'wrong_recipient', `message is addressed to ${envelope.to}, not this instance (${self})`, { field: 'to' });
  }
  if (Math.abs(now - envelope.ts) > CLOCK_SKEW_MS) {
    // Both clocks in the answer: the sender's admin sees which side is off, and by how much.
    const ahead = envelope.ts > now;
    throw new ProtocolError(401, 'clock_skew',
      `message is ${Math.round(Math.abs(now - envelope.ts) / 1000)}s ${ahead ? 'ahead of' : 'behind'} this instance's clock; at most ${CLOCK_SKEW_MS / 1000}s is accepted`,
      { senderTs: envelope.ts, receiverTs: now, skewMs: envelope.ts - now, maxSkewMs: CLOCK_SKEW_MS });
  }

  let key: Buffer;
  let peer: P | undefined;
  let connect: ConnectBody | undefined;
  if (envelope.kind === 'CONNECT') {
    if (envelope.from === self) throw new ProtocolError(400, 'self_connection', 'an instance cannot connect to itself');
    connect = parseConnectBody(envelope.body);
    if (fingerprint(connect.publicKeyRaw) !== envelope.from) {
      throw new ProtocolError(401, 'fingerprint_mismatch', 'from is not the fingerprint of the public key in the CONNECT body');
    }
    key = connect.publicKeyRaw;
    peer = input.lookupPeer(envelope.from);
  } else {
    peer = input.lookupPeer(envelope.from);
    if (!peer) throw new ProtocolError(401, 'unknown_peer', `no connection with ${envelope.from}`);
    if (!(input.allowedStates ?? acceptedStates(envelope.kind)).includes(peer.state)) throw inactive(peer.state);
    key = peer.publicKey;
  }
  if (!verifyBytes(key, bytes, input.signatureHeader)) {
    throw new ProtocolError(401, 'bad_signature', 'Mosaic-Signature is missing or does not verify with the sender\'s key');
  }
  const out: VerifiedInbound<P> = { envelope };
  if (peer) out.peer = peer;
  if (connect) out.connect = connect;
  return out;
}

export interface ResponseExpectation {
  /** Raw 32-byte key of the peer that must have signed the response. */
  peerPublicKey: Buffer;
  /** The id of the request this answers. */
  requestId: string;
  self: string;
  peerId: string;
  now: number;
  /** Size limit of the answer (default MAX_BODY_BYTES). */
  maxBytes?: number;
}

const badResponse = (code: string, message: string): MosaicError => new MosaicError(502, code, message);

/**
 * The sender's check of a peer's answer: a well-formed RESPONSE from the peer
 * to us that answers our request, signed by the peer's key. Failures are the
 * peer's fault, hence 502: `invalid_response`, `response_mismatch`,
 * `bad_response_signature`.
 */
export function verifyResponse(bytes: Buffer, header: string | undefined, expected: ResponseExpectation): Envelope<ResponseBody> {
  if (bytes.length > (expected.maxBytes ?? MAX_BODY_BYTES)) throw badResponse('invalid_response', 'peer response exceeds the size limit');
  const malformed = (err: unknown): MosaicError => badResponse('invalid_response', `peer response is malformed: ${(err as Error).message}`);
  let envelope: Envelope<JsonObject>;
  try {
    envelope = parseEnvelope(bytes);
  } catch (err) {
    throw malformed(err);
  }
  if (envelope.kind !== 'RESPONSE') throw badResponse('response_mismatch', `peer answered with ${envelope.kind}, not RESPONSE`);
  let body: ResponseBody;
  try {
    body = parseResponseBody(envelope.body);
  } catch (err) {
    throw malformed(err);
  }
  if (envelope.correlationId !== expected.requestId) throw badResponse('response_mismatch', 'peer response answers a different request');
  if (envelope.from !== expected.peerId || envelope.to !== expected.self) {
    throw badResponse('response_mismatch', 'peer response is not from the peer to this instance');
  }
  // A retried request is answered with the stored response of its first
  // delivery, which may be older than the skew; correlationId already binds
  // the response to this request, so only absurd timestamps are refused.
  if (envelope.ts - expected.now > CLOCK_SKEW_MS || expected.now - envelope.ts > REPLAY_WINDOW_MS + CLOCK_SKEW_MS) {
    throw badResponse('response_mismatch', 'peer response timestamp is out of range');
  }
  if (!verifyBytes(expected.peerPublicKey, bytes, header)) {
    throw badResponse('bad_response_signature', 'peer response signature is missing or does not verify with the peer\'s key');
  }
  return { ...envelope, body };
}
