import { isMosaicError, MosaicError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Identity } from '../identity/index.js';
import {
  decodePublicKey, makeEnvelope, sendVerified,
  type Envelope, type ErrorInfo, type InboundKind, type JsonObject, type ResponseBody,
} from '../protocol/index.js';
import type { FederationStore, MessageStatus } from '../store/index.js';
import { callerSideMessage } from './caller-side.js';
import type { PeerContacts } from './contacts.js';

/** Where a message goes: enough to address, send and verify, with or without a stored connection. */
export interface PeerTarget {
  instanceId: string;
  url: string;
  /** Base64 of the raw 32-byte key. */
  publicKey: string;
  /** Connection name, for error messages. */
  name?: string;
}

export interface SendOpts {
  /** A fixed message id (the outbox's ids are derived from the event seq); random otherwise. */
  id?: string;
  /** Command, query or event name, for the message list. */
  op?: string;
  retries?: number;
  timeoutMs?: number;
  /** Abandons the send (no further attempts), e.g. when the instance stops. */
  signal?: AbortSignal;
  /** Largest answer accepted (agent.bundle answers are large). */
  maxResponseBytes?: number;
}

export interface MessengerOptions {
  identity: Identity;
  store: FederationStore;
  logger: Logger;
  timeoutMs: number;
  retries: number;
  backoffMs?: number;
  fetchImpl?: typeof fetch;
  /** Told of every verified answer and every failed send, so stale mirrors can be shown as such. */
  contacts?: PeerContacts;
}

export interface Exchange {
  status: number;
  response: Envelope<ResponseBody>;
  attempts: number;
}

/**
 * Sends signed messages to peers and tracks each in the message list:
 * `pending` until answered, then `delivered` (the peer answered ok),
 * `failed` (the peer refused, or could not be reached) or `timeout`.
 */
export class Messenger {
  constructor(private readonly opts: MessengerOptions) {}

  /** Sends and verifies; resolves with the peer's signed RESPONSE, ok or not. Network and verification failures throw. */
  async exchange(peer: PeerTarget, kind: InboundKind, body: JsonObject, opts: SendOpts = {}): Promise<Exchange> {
    const { identity, store } = this.opts;
    const envelope = makeEnvelope({ kind, from: identity.instanceId, to: peer.instanceId, body, ...(opts.id ? { id: opts.id } : {}) });
    const row = { messageId: envelope.id, direction: 'out' as const, peer: peer.instanceId, verified: true };
    await store.messages.start({ ...row, kind, op: opts.op ?? null });
    const peerPublicKey = decodePublicKey(peer.publicKey);
    if (!peerPublicKey) throw new MosaicError(500, 'invalid_peer_key', `the stored key of ${peer.instanceId} is malformed`);
    // Counted here rather than taken from the client's result, so failures report their attempts too.
    let attempts = 0;
    const baseFetch = this.opts.fetchImpl ?? fetch;
    const countingFetch: typeof fetch = (input, init) => {
      attempts += 1;
      return baseFetch(input, init);
    };
    try {
      const sent = await sendVerified({
        url: peer.url,
        kind,
        envelope,
        privateKey: identity.privateKey,
        peerPublicKey,
        timeoutMs: opts.timeoutMs ?? this.opts.timeoutMs,
        retries: opts.retries ?? this.opts.retries,
        ...(this.opts.backoffMs === undefined ? {} : { backoffMs: this.opts.backoffMs }),
        fetchImpl: countingFetch,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.maxResponseBytes === undefined ? {} : { maxResponseBytes: opts.maxResponseBytes }),
      });
      const { body: answer } = sent.response;
      // A verified answer, ok or a refusal, is contact: the peer is there and speaking for itself.
      this.opts.contacts?.heard(peer.instanceId);
      await store.messages.finish(row, answer.ok
        ? { status: 'delivered', httpStatus: sent.status, attempts }
        : { status: 'failed', httpStatus: sent.status, errorCode: answer.error.code, errorMessage: answer.error.message, attempts });
      return sent;
    } catch (err) {
      const e = isMosaicError(err) ? err : new MosaicError(502, 'peer_unreachable', (err as Error).message);
      const status: MessageStatus = e.code === 'peer_timeout' ? 'timeout' : 'failed';
      const peerStatus = typeof e.details?.peerStatus === 'number' ? e.details.peerStatus : null;
      await store.messages.finish(row, {
        status, httpStatus: peerStatus, errorCode: e.code, errorMessage: e.message, attempts: Math.max(1, attempts),
      });
      if (!opts.signal?.aborted) this.opts.contacts?.failed(peer.instanceId, e.message);
      this.opts.logger.warn({ peer: peer.instanceId, kind, op: opts.op, code: e.code }, 'federation message failed');
      throw e;
    }
  }

  /** exchange(), then the result of an ok answer; a refusal throws the peer's error (see peerError). */
  async send<R = unknown>(peer: PeerTarget, kind: InboundKind, body: JsonObject, opts: SendOpts = {}): Promise<R> {
    const { status, response } = await this.exchange(peer, kind, body, opts);
    if (!response.body.ok) throw peerError(peer, status, response.body.error);
    return response.body.result as R;
  }
}

/**
 * A peer's refusal as a local error: its code and message, and the status
 * it answered with — except 401 and 5xx, which say nothing about this
 * caller's own credentials or server and become 502.
 */
export function peerError(peer: PeerTarget, status: number, error: ErrorInfo): MosaicError {
  const local = status === 401 || status >= 500 || status < 400 ? 502 : status;
  const who = peer.name ?? peer.instanceId;
  const ours = callerSideMessage(who, error);
  return new MosaicError(local, error.code, ours ?? `peer ${who}: ${error.message}`, {
    ...(error.details ?? {}), peer: who, peerStatus: status, ...(ours === undefined ? {} : { peerMessage: error.message }),
  });
}
