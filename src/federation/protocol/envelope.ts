import { randomUUID } from 'node:crypto';
import { MosaicError } from '../../core/errors.js';
import { ENVELOPE_VERSION, INSTANCE_ID_RE, UUID_RE } from './constants.js';

export const MESSAGE_KINDS = ['CONNECT', 'DISCONNECT', 'QUERY', 'COMMAND', 'EVENT', 'RESPONSE'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
/** Kinds a peer may POST to `federation/incoming/*`; RESPONSE only travels back in an HTTP reply. */
export type InboundKind = Exclude<MessageKind, 'RESPONSE'>;
export const INBOUND_KINDS: readonly InboundKind[] = ['CONNECT', 'DISCONNECT', 'QUERY', 'COMMAND', 'EVENT'];

export type JsonObject = Record<string, unknown>;

export interface Envelope<B = unknown> {
  v: 1;
  id: string;
  kind: MessageKind;
  from: string;
  to: string;
  ts: number;
  correlationId?: string;
  body: B;
}

export interface ErrorInfo {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type ResponseBody<R = unknown> = { ok: true; result: R } | { ok: false; error: ErrorInfo };

/** A malformed or unacceptable message. A MosaicError, so the HTTP layer maps it like any other. */
export class ProtocolError extends MosaicError {
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(status, code, message, details);
    this.name = 'ProtocolError';
  }
}

const bad = (message: string, field?: string): ProtocolError =>
  new ProtocolError(400, 'invalid_envelope', message, field === undefined ? undefined : { field });

export function isMessageKind(value: unknown): value is MessageKind {
  return typeof value === 'string' && (MESSAGE_KINDS as readonly string[]).includes(value);
}

/** `connect` → CONNECT, for the `incoming/:kind` route; undefined for anything else (including `response`). */
export function kindFromPath(segment: string): InboundKind | undefined {
  return INBOUND_KINDS.find((k) => k.toLowerCase() === segment);
}

export function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function makeEnvelope<B>(opts: {
  kind: MessageKind;
  from: string;
  to: string;
  body: B;
  correlationId?: string;
  id?: string;
  ts?: number;
}): Envelope<B> {
  const env: Envelope<B> = {
    v: ENVELOPE_VERSION,
    id: opts.id ?? randomUUID(),
    kind: opts.kind,
    from: opts.from,
    to: opts.to,
    ts: opts.ts ?? Date.now(),
    body: opts.body,
  };
  if (opts.correlationId !== undefined) env.correlationId = opts.correlationId;
  return env;
}

/**
 * The RESPONSE to `request`, from `self`. `request` need not have been
 * verified (errors are answered too), which is why `self` is explicit rather
 * than taken from `request.to`.
 */
export function makeResponse<R>(
  self: string,
  request: { id: string; from: string },
  body: ResponseBody<R>,
  ts?: number,
): Envelope<ResponseBody<R>> {
  return makeEnvelope({ kind: 'RESPONSE', from: self, to: request.from, correlationId: request.id, body, ...(ts === undefined ? {} : { ts }) });
}

export function okBody<R>(result: R): ResponseBody<R> {
  return { ok: true, result };
}

/** An error response body; takes a MosaicError or any `{code, message}`. */
export function errorBody(err: ErrorInfo | MosaicError): ResponseBody<never> {
  const error: ErrorInfo = { code: err.code, message: err.message };
  if (err.details !== undefined) error.details = err.details;
  return { ok: false, error };
}

const ENVELOPE_KEYS = new Set(['v', 'id', 'kind', 'from', 'to', 'ts', 'correlationId', 'body']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses JSON bytes strictly: invalid UTF-8 and malformed JSON are both `invalid_json`. */
export function parseJson(raw: Buffer | string): unknown {
  try {
    return JSON.parse(typeof raw === 'string' ? raw : utf8.decode(raw)) as unknown;
  } catch {
    throw new ProtocolError(400, 'invalid_json', 'message body is not valid UTF-8 JSON');
  }
}

/**
 * Strict shape check of one envelope. `v` is judged first: the rest of the
 * shape is what version 1 defines, so a message that declares another
 * version is answered `unsupported_protocol_version` rather than being
 * misreported as malformed by v1's rules.
 */
export function parseEnvelope(raw: Buffer | string): Envelope<JsonObject> {
  const value = parseJson(raw);
  if (!isPlainObject(value)) throw bad('message must be a JSON object');
  const v = value.v;
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw bad('v must be a positive integer', 'v');
  if (v !== ENVELOPE_VERSION) {
    throw new ProtocolError(400, 'unsupported_protocol_version', `protocol version ${String(v)} is not supported; this instance speaks ${ENVELOPE_VERSION}`, {
      supported: [ENVELOPE_VERSION],
    });
  }
  for (const key of Object.keys(value)) {
    if (!ENVELOPE_KEYS.has(key)) throw bad(`unknown envelope field '${key}'`, key);
  }
  const { id, kind, from, to, ts, correlationId, body } = value;
  if (typeof id !== 'string' || !UUID_RE.test(id)) throw bad('id must be a lowercase UUID', 'id');
  if (!isMessageKind(kind)) throw bad(`kind must be one of ${MESSAGE_KINDS.join(', ')}`, 'kind');
  if (typeof from !== 'string' || !INSTANCE_ID_RE.test(from)) throw bad('from must be an instance id (32 base32 characters)', 'from');
  if (typeof to !== 'string' || !INSTANCE_ID_RE.test(to)) throw bad('to must be an instance id (32 base32 characters)', 'to');
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) throw bad('ts must be a non-negative integer (unix ms)', 'ts');
  if (correlationId !== undefined && (typeof correlationId !== 'string' || !UUID_RE.test(correlationId))) {
    throw bad('correlationId must be a lowercase UUID', 'correlationId');
  }
  if (kind === 'RESPONSE' && correlationId === undefined) throw bad('a RESPONSE must carry correlationId', 'correlationId');
  if (!isPlainObject(body)) throw bad('body must be a JSON object', 'body');
  const env: Envelope<JsonObject> = { v: ENVELOPE_VERSION, id, kind, from, to, ts, body };
  if (correlationId !== undefined) env.correlationId = correlationId;
  return env;
}
