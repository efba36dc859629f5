import type { KeyObject } from 'node:crypto';
import { invalid, MosaicError } from '../../core/errors.js';
import { parseResponseBody, peerOrigin } from './bodies.js';
import { INCOMING_PATH, MAX_BODY_BYTES, SIGNATURE_HEADER } from './constants.js';
import { parseEnvelope, type Envelope, type InboundKind, type ResponseBody } from './envelope.js';
import { encodeSigned } from './signing.js';
import { verifyResponse } from './verify.js';

export interface SendOptions {
  /** The peer's base URL, e.g. `https://spoke.example:7420`. */
  url: string;
  kind: InboundKind;
  envelope: Envelope;
  privateKey: KeyObject;
  fetchImpl?: typeof fetch;
  /** Per attempt, covering the whole exchange including the response body. Default 10 s. */
  timeoutMs?: number;
  /** Further attempts after the first, for network errors, timeouts and 5xx. Default 2. */
  retries?: number;
  /** First backoff; doubles per retry, with jitter. Default 200 ms. */
  backoffMs?: number;
  /** Aborts the whole send (no further retries). */
  signal?: AbortSignal;
  /** Largest answer accepted (default MAX_BODY_BYTES); only answers known to be large (agent.bundle) raise it. */
  maxResponseBytes?: number;
}

export interface SendResult {
  /** HTTP status of the answer. */
  status: number;
  /** The peer's RESPONSE, not yet verified: pass `bytes` and `signature` to verifyResponse. */
  response: Envelope<ResponseBody>;
  bytes: Buffer;
  signature?: string;
  attempts: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_BACKOFF_MS = 200;

export function incomingUrl(baseUrl: string, kind: InboundKind): string {
  const origin = peerOrigin(baseUrl);
  if (origin === undefined) throw invalid('invalid_peer_url', 'peer URL must be an http(s) URL without credentials', { field: 'url' });
  return `${origin}${INCOMING_PATH}/${kind.toLowerCase()}`;
}

/** Exponential with "equal jitter": half the step is fixed, half random, so retries from many senders spread out. */
function backoffDelay(base: number, retry: number): number {
  const step = base * 2 ** retry;
  return step / 2 + Math.random() * (step / 2);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A peer's answer went past the size limit while it was read (the rest was never read). */
export class BodyTooLarge extends Error {}

/**
 * Reads a response body as a stream and stops at `limit` bytes: a peer's
 * answer (a 400 MiB instance document, say) costs no more memory than the limit.
 */
export async function readCapped(res: Response, limit: number = MAX_BODY_BYTES): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(`peer response exceeds the size limit of ${limit} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
}

/** The peer's `{error: {code, message}}`, if its non-envelope answer has one. */
function plainError(bytes: Buffer): { peerCode?: string; peerMessage?: string } {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
    const code = parsed.error?.code;
    const message = parsed.error?.message;
    return { ...(typeof code === 'string' ? { peerCode: code } : {}), ...(typeof message === 'string' ? { peerMessage: message.slice(0, 500) } : {}) };
  } catch {
    return {};
  }
}

function asResponse(bytes: Buffer): Envelope<ResponseBody> | undefined {
  try {
    const env = parseEnvelope(bytes);
    return env.kind === 'RESPONSE' ? { ...env, body: parseResponseBody(env.body) } : undefined;
  } catch {
    return undefined;
  }
}

type Attempt =
  | { type: 'answer'; status: number; bytes: Buffer; signature: string | undefined }
  | { type: 'timeout' }
  | { type: 'network'; message: string };

/**
 * POSTs one signed envelope to a peer. The envelope is serialised and signed
 * once; every retry sends the same bytes with the same id, so a receiver that
 * already executed it answers from its replay cache instead of running it
 * twice. Network errors, timeouts and 5xx are retried; a 4xx never is (the
 * same bytes would be refused the same way). A signed RESPONSE is returned
 * whether ok or not; anything else becomes a 502/504 MosaicError.
 */
export async function sendEnvelope(opts: SendOptions): Promise<SendResult> {
  if (opts.envelope.kind !== opts.kind) throw new TypeError(`envelope kind ${opts.envelope.kind} sent as ${opts.kind}`);
  const endpoint = incomingUrl(opts.url, opts.kind);
  const fetchImpl = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = Math.max(0, opts.retries ?? DEFAULT_RETRIES);
  const backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
  const { bytes, signature } = encodeSigned(opts.envelope, opts.privateKey);

  let last: Attempt = { type: 'network', message: 'not attempted' };
  let attempts = 0;
  while (attempts <= retries) {
    if (attempts > 0) await sleep(backoffDelay(backoffMs, attempts - 1));
    opts.signal?.throwIfAborted();
    attempts++;
    last = await attemptOnce(fetchImpl, endpoint, bytes, signature, timeoutMs, opts.signal, opts.maxResponseBytes);
    if (last.type === 'answer' && last.status < 500) break;
  }

  if (last.type === 'timeout') throw new MosaicError(504, 'peer_timeout', `peer did not answer within ${timeoutMs} ms (${attempts} attempts)`);
  if (last.type === 'network') {
    throw new MosaicError(502, 'peer_unreachable', `peer is unreachable after ${attempts} attempts: ${last.message}`, { url: opts.url });
  }
  const response = asResponse(last.bytes);
  if (response) {
    const out: SendResult = { status: last.status, response, bytes: last.bytes, attempts };
    if (last.signature !== undefined) out.signature = last.signature;
    return out;
  }
  const details = { peerStatus: last.status, ...plainError(last.bytes) };
  if (last.status >= 400 && last.status < 500) {
    throw new MosaicError(502, 'peer_rejected', `peer refused the message (${last.status}${details.peerCode ? ` ${details.peerCode}` : ''})`, details);
  }
  if (last.status >= 500) throw new MosaicError(502, 'peer_error', `peer failed (${last.status}) after ${attempts} attempts`, details);
  throw new MosaicError(502, 'peer_bad_response', `peer answered ${last.status} without a RESPONSE envelope`, details);
}

async function attemptOnce(
  fetchImpl: typeof fetch,
  endpoint: string,
  bytes: Buffer,
  signature: string,
  timeoutMs: number,
  outer: AbortSignal | undefined,
  maxResponseBytes: number = MAX_BODY_BYTES,
): Promise<Attempt> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onOuterAbort = (): void => controller.abort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const res = await fetchImpl(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
      body: bytes,
      signal: controller.signal,
      // A redirect would resend the signed bytes somewhere the admin never named.
      redirect: 'manual',
    });
    const body = await readCapped(res, maxResponseBytes);
    return { type: 'answer', status: res.status, bytes: body, signature: res.headers.get(SIGNATURE_HEADER) ?? undefined };
  } catch (err) {
    if (outer?.aborted) throw outer.reason;
    if (err instanceof BodyTooLarge) throw new MosaicError(502, 'peer_bad_response', err.message);
    if (timedOut) return { type: 'timeout' };
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    return { type: 'network', message: typeof cause === 'string' ? cause : (err as Error).message };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

/**
 * sendEnvelope, then verifyResponse against the peer's key: the answer is
 * known to come from that peer and to answer this envelope.
 */
export async function sendVerified(
  opts: SendOptions & { peerPublicKey: Buffer; now?: () => number },
): Promise<{ status: number; response: Envelope<ResponseBody>; attempts: number }> {
  const sent = await sendEnvelope(opts);
  const response = verifyResponse(sent.bytes, sent.signature, {
    peerPublicKey: opts.peerPublicKey,
    requestId: opts.envelope.id,
    self: opts.envelope.from,
    peerId: opts.envelope.to,
    now: (opts.now ?? Date.now)(),
    ...(opts.maxResponseBytes === undefined ? {} : { maxBytes: opts.maxResponseBytes }),
  });
  return { status: sent.status, response, attempts: sent.attempts };
}
