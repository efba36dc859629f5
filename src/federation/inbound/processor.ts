import { isMosaicError, MosaicError } from '../../core/errors.js';
import type { FederationContext } from '../context.js';
import type { Dispatcher, Peer } from '../handlers/index.js';
import { bundleAnswerLimit } from '../handlers/limits.js';
import {
  encodeSigned, errorBody, makeResponse, MAX_BODY_BYTES, okBody, parseEnvelope, verifyInbound,
  type Envelope, type InboundKind, type JsonObject, type ResponseBody, type VerifiedInbound,
} from '../protocol/index.js';
import type { MessageStart, SeenResponse } from '../store/index.js';
import { PeerRateLimiter } from './rate-limit.js';

export type InboundAnswer = SeenResponse;

const READ_COMMANDS = new Set(['agent.status', 'agent.list', 'agent.logs', 'agent.diff', 'agent.bundle']);
/**
 * Commands a repeat may simply run again: reads, and agent.spawn (its message
 * id, or the caller's idempotencyKey, is its idempotency key, so a repeat
 * answers the same agent with the same status).
 */
const REPEATABLE_COMMANDS = new Set([...READ_COMMANDS, 'agent.spawn']);
/** The largest answer the replay cache keeps for a repeatable message. */
const MAX_REMEMBERED_BYTES = 16 * 1024;

type Row = Pick<MessageStart, 'messageId' | 'direction' | 'peer' | 'verified'>;

/** The command, query or event a message names, for the message list. */
function opOf(envelope: Envelope<JsonObject>): string | null {
  const { body } = envelope;
  const op = body.command ?? body.query ?? body.event;
  return typeof op === 'string' ? op.slice(0, 64) : envelope.kind === 'DISCONNECT' ? 'disconnect' : null;
}

/**
 * The receiver's pipeline after the HTTP layer's size and per-address
 * limits: verify (shape, version, recipient, clock, connection, signature)
 * → per-peer rate limit → replay cache → dispatch → signed RESPONSE. Every
 * message whose envelope parses is answered with a signed RESPONSE and
 * tracked in the message list; a repeated id gets the stored answer of its
 * first delivery, and is never executed twice — also while the first
 * delivery is still running, when the repeat waits for its answer.
 */
export class InboundProcessor {
  private readonly inflight = new Map<string, Promise<InboundAnswer>>();
  private readonly limiter: PeerRateLimiter;

  constructor(private readonly ctx: FederationContext, private readonly dispatcher: Dispatcher) {
    this.limiter = new PeerRateLimiter(ctx.config.fedRatePerPeer);
  }

  /** `source`: the sender's address, for the per-address cap on connection requests. */
  async process(kind: InboundKind, bytes: Buffer, signatureHeader: string | undefined, source?: string): Promise<InboundAnswer> {
    const { store } = this.ctx;
    // verifyInbound is pure and synchronous: the sender's record is read first (the store is async).
    const sender = await this.senderOf(bytes);
    let verified: VerifiedInbound<Peer>;
    try {
      verified = verifyInbound<Peer>({
        bytes, signatureHeader, kind, self: this.ctx.identity.instanceId, now: Date.now(),
        lookupPeer: (id) => (sender !== undefined && sender.connection.instanceId === id ? sender : undefined),
      });
    } catch (err) {
      return this.refuseUnverified(bytes, err);
    }
    const { envelope } = verified;
    const row: Row = { messageId: envelope.id, direction: 'in', peer: envelope.from, verified: true };
    // Signed with a stored peer's key: it is there (whatever this message asks). A first CONNECT is not a peer yet.
    if (verified.peer?.state === 'active') this.ctx.contacts.heard(envelope.from);
    await store.messages.start({ ...row, kind: envelope.kind, op: opOf(envelope), correlationId: envelope.correlationId ?? null });
    try {
      this.limiter.take(envelope.from);
    } catch (err) {
      return await this.finish(row, this.errorAnswer(envelope, err));
    }
    const key = `${envelope.from} ${envelope.id}`;
    const running = this.inflight.get(key);
    if (running) return running.then((answer) => this.finish(row, answer));
    // Registered before anything is awaited, so a repeat arriving meanwhile waits for this answer.
    const execution = this.answerOnce(verified, row, source).finally(() => this.inflight.delete(key));
    this.inflight.set(key, execution);
    return execution;
  }

  /** The stored answer of a message seen before, or the answer of running it now. */
  private async answerOnce(verified: VerifiedInbound<Peer>, row: Row, source: string | undefined): Promise<InboundAnswer> {
    const stored = await this.ctx.store.seen.get(verified.envelope.from, verified.envelope.id);
    if (stored) return this.finish(row, stored);
    return this.execute(verified, row, source);
  }

  private async execute(verified: VerifiedInbound<Peer>, row: Row, source: string | undefined): Promise<InboundAnswer> {
    const { envelope } = verified;
    let answer: InboundAnswer;
    try {
      answer = this.sign(envelope, okBody(await this.dispatcher.dispatch(verified, source)), 200);
    } catch (err) {
      answer = this.errorAnswer(envelope, err);
    }
    if (this.remember(envelope, answer)) await this.ctx.store.seen.put(envelope.from, envelope.id, answer);
    if (envelope.kind !== 'DISCONNECT') this.ctx.wakeOutbox(envelope.from);
    return this.finish(row, answer);
  }

  /**
   * Whether a repeat of this message must get this very answer. A fault of
   * ours (5xx) must not be: the sender's retry should run it again. Nor must
   * a large answer to a message that is safe to run again (a QUERY, a read
   * command such as a page of logs, an agent.spawn): the replay cache stays
   * small (a peer following logs or repeating a spawn with a large prompt
   * would otherwise fill it), and the repeat gets the same answer by running
   * again. Other answers (CONNECT, EVENT, agent.kill) are small and bounded.
   */
  private remember(envelope: Envelope<JsonObject>, answer: InboundAnswer): boolean {
    if (answer.status >= 500) return false;
    const repeatable = envelope.kind === 'QUERY' || (envelope.kind === 'COMMAND' && REPEATABLE_COMMANDS.has(String(envelope.body.command)));
    return !repeatable || answer.bytes.length <= MAX_REMEMBERED_BYTES;
  }

  /** The stored peer the message says it is from; undefined for a message that does not parse (verifyInbound says why). */
  private async senderOf(bytes: Buffer): Promise<Peer | undefined> {
    if (bytes.length > MAX_BODY_BYTES) return undefined;
    let from: string;
    try {
      from = parseEnvelope(bytes).from;
    } catch {
      return undefined;
    }
    const connection = await this.ctx.store.connections.byInstance(from);
    return connection && { state: connection.state, publicKey: Buffer.from(connection.publicKey, 'base64'), connection };
  }

  /** A message refused before its sender was verified: answered and listed if its envelope parses, a plain error otherwise. */
  private async refuseUnverified(bytes: Buffer, err: unknown): Promise<InboundAnswer> {
    if (bytes.length > MAX_BODY_BYTES) throw err;
    let envelope: Envelope<JsonObject>;
    try {
      envelope = parseEnvelope(bytes);
    } catch {
      throw err;
    }
    const row: Row = { messageId: envelope.id, direction: 'in', peer: envelope.from, verified: false };
    await this.ctx.store.messages.start({ ...row, kind: envelope.kind, op: opOf(envelope), correlationId: envelope.correlationId ?? null });
    return this.finish(row, this.errorAnswer(envelope, err));
  }

  private errorAnswer(envelope: Envelope<JsonObject>, err: unknown): InboundAnswer {
    if (isMosaicError(err)) return this.sign(envelope, errorBody(err), err.status);
    this.ctx.logger.error({ err, peer: envelope.from, kind: envelope.kind }, 'federation handler failed');
    return this.sign(envelope, errorBody({ code: 'internal', message: 'internal error' }), 500);
  }

  private sign(envelope: Envelope<JsonObject>, body: ResponseBody, status: number): InboundAnswer {
    const response = makeResponse(this.ctx.identity.instanceId, envelope, body);
    let signed = encodeSigned(response, this.ctx.identity.privateKey);
    // Only an agent.bundle answer may be larger than one ordinary message: it carries the bundle.
    const limit = envelope.kind === 'COMMAND' && envelope.body.command === 'agent.bundle'
      ? Math.max(MAX_BODY_BYTES, bundleAnswerLimit(this.ctx.config.bundleMaxBytes)) : MAX_BODY_BYTES;
    if (signed.bytes.length > limit) {
      const tooLarge = new MosaicError(413, 'result_too_large', 'the answer would exceed the message size limit; ask for less');
      signed = encodeSigned(makeResponse(this.ctx.identity.instanceId, envelope, errorBody(tooLarge)), this.ctx.identity.privateKey);
      status = 413;
    }
    return { status, bytes: signed.bytes, signature: signed.signature };
  }

  private async finish(row: Row, answer: InboundAnswer): Promise<InboundAnswer> {
    let error: { code?: string; message?: string } = {};
    if (answer.status >= 400) {
      try {
        const parsed = JSON.parse(answer.bytes.toString('utf8')) as { body?: { error?: { code?: string; message?: string } } };
        error = parsed.body?.error ?? {};
      } catch {
        // Our own answer: always JSON.
      }
    }
    await this.ctx.store.messages.finish(row, {
      status: answer.status < 400 ? 'delivered' : 'failed', httpStatus: answer.status, errorCode: error.code ?? null, errorMessage: error.message ?? null,
    });
    return answer;
  }
}
