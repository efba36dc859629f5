import { EVENTS, GRANT_CHANGED, INSTANCE_ID_RE, PROTOCOL_VERSION, QUERIES, WIRE_COMMANDS, type EventName, type QueryName, type WireCommand } from './constants.js';
import { validateGrants, type Grants } from './grants.js';
import { isPlainObject, ProtocolError, type ErrorInfo, type JsonObject, type ResponseBody } from './envelope.js';

/**
 * Strict parsers for the body of each message kind (DESIGN §4 "Messages").
 * They only check shape; what a command's args mean is the handler's business.
 */

export interface ConnectBody {
  name: string;
  url: string;
  /** Base64 of the raw 32-byte Ed25519 key, as sent. */
  publicKey: string;
  /** The decoded key. */
  publicKeyRaw: Buffer;
  protocolVersion: string;
  token?: string;
  /** What the sender lets the receiver do at the sender (informational for the receiver). */
  grants?: Grants;
}
export interface DisconnectBody { reason?: string }
export interface QueryBody { query: QueryName; args: JsonObject }
export interface CommandBody { command: WireCommand; args: JsonObject }
export interface EventBody {
  event: EventName;
  agent: JsonObject;
  /** The sender's event sequence number: lets the receiver apply each event once and in order, past the replay window. */
  seq?: number;
}
/** EVENT `grant.changed`: what the sender now lets the receiver do there, and the change's version (only newer ones apply). */
export interface GrantNoticeBody {
  event: typeof GRANT_CHANGED;
  grants: Grants;
  version: number;
}
/** What CONNECT's RESPONSE carries in `result`. */
export interface ConnectResult {
  state: 'active' | 'pending';
  grants?: Grants;
  instance: { instanceId: string; name: string; url: string; publicKey: string };
}

const badBody = (field: string, message: string, code = 'invalid_body'): ProtocolError =>
  new ProtocolError(400, code, message, { field });

function onlyKeys(obj: JsonObject, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) throw badBody(`${prefix}${key}`, `unknown field '${prefix}${key}'`);
  }
}

function object(value: unknown, field: string): JsonObject {
  if (!isPlainObject(value)) throw badBody(field, `${field} must be a JSON object`);
  return value;
}

/** A short printable string: no control characters, 1..max characters. */
function text(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
    throw badBody(field, `${field} must be 1..${max} printable characters`);
  }
  return value;
}

export function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/**
 * The origin (scheme, host, port) of a peer's http(s) URL: what this
 * instance stores and builds every outbound URL from, so no path, query,
 * fragment or userinfo a peer or a typo put in a URL ever reaches a request
 * (a URL ending in `?x=` would otherwise swallow Mosaic's fixed paths).
 * Undefined when the value is not an http(s) URL without credentials.
 */
export function peerOrigin(value: unknown): string | undefined {
  if (!isHttpUrl(value)) return undefined;
  return new URL(value).origin;
}

/** Base64 of exactly 32 bytes, in canonical form (so one key has one spelling). */
export function decodePublicKey(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(value)) return undefined;
  const raw = Buffer.from(value, 'base64');
  return raw.length === 32 && raw.toString('base64') === value ? raw : undefined;
}

export function parseConnectBody(body: JsonObject): ConnectBody {
  onlyKeys(body, ['name', 'url', 'publicKey', 'protocolVersion', 'token', 'grants'], 'body.');
  const name = text(body.name, 'body.name', 100);
  if (!isHttpUrl(body.url)) throw badBody('body.url', 'body.url must be an http(s) URL without credentials');
  const publicKeyRaw = decodePublicKey(body.publicKey);
  if (!publicKeyRaw) throw badBody('body.publicKey', 'body.publicKey must be the base64 of a raw 32-byte Ed25519 key');
  if (typeof body.protocolVersion !== 'string') throw badBody('body.protocolVersion', 'body.protocolVersion must be a string');
  if (body.protocolVersion !== PROTOCOL_VERSION) {
    throw new ProtocolError(400, 'unsupported_protocol_version',
      `protocol version ${body.protocolVersion} is not supported; this instance speaks ${PROTOCOL_VERSION}`, { supported: [PROTOCOL_VERSION] });
  }
  const out: ConnectBody = { name, url: body.url, publicKey: body.publicKey as string, publicKeyRaw, protocolVersion: body.protocolVersion };
  if (body.token !== undefined) out.token = text(body.token, 'body.token', 256);
  if (body.grants !== undefined) out.grants = bodyGrants(body.grants, 'body.grants');
  return out;
}

export function parseDisconnectBody(body: JsonObject): DisconnectBody {
  onlyKeys(body, ['reason'], 'body.');
  return body.reason === undefined ? {} : { reason: text(body.reason, 'body.reason', 500) };
}

export function parseQueryBody(body: JsonObject): QueryBody {
  onlyKeys(body, ['query', 'args'], 'body.');
  if (!(QUERIES as readonly unknown[]).includes(body.query)) {
    throw badBody('body.query', `body.query must be one of ${QUERIES.join(', ')}`, 'unknown_query');
  }
  return { query: body.query as QueryName, args: body.args === undefined ? {} : object(body.args, 'body.args') };
}

export function parseCommandBody(body: JsonObject): CommandBody {
  onlyKeys(body, ['command', 'args'], 'body.');
  if (!(WIRE_COMMANDS as readonly unknown[]).includes(body.command)) {
    throw badBody('body.command', `body.command must be one of ${WIRE_COMMANDS.join(', ')}`, 'unknown_command');
  }
  const command = body.command as WireCommand;
  const args = body.args === undefined ? {} : object(body.args, 'body.args');
  // DESIGN §4: nothing is forwarded onward, so a remote spawn never names a further peer.
  if (command === 'agent.spawn' && 'peer' in args) throw badBody('body.args.peer', 'agent.spawn from a peer must not carry peer');
  return { command, args };
}

export function parseEventBody(body: JsonObject): EventBody | GrantNoticeBody {
  if (body.event === GRANT_CHANGED) return parseGrantNotice(body);
  onlyKeys(body, ['event', 'agent', 'seq'], 'body.');
  if (!(EVENTS as readonly unknown[]).includes(body.event)) {
    throw badBody('body.event', `body.event must be one of ${[...EVENTS, GRANT_CHANGED].join(', ')}`, 'unknown_event');
  }
  const out: EventBody = { event: body.event as EventName, agent: object(body.agent, 'body.agent') };
  if (body.seq !== undefined) {
    if (typeof body.seq !== 'number' || !Number.isSafeInteger(body.seq) || body.seq < 1) throw badBody('body.seq', 'body.seq must be a positive integer');
    out.seq = body.seq;
  }
  return out;
}

function parseGrantNotice(body: JsonObject): GrantNoticeBody {
  onlyKeys(body, ['event', 'grants', 'version'], 'body.');
  if (typeof body.version !== 'number' || !Number.isSafeInteger(body.version) || body.version < 1) {
    throw badBody('body.version', 'body.version must be a positive integer');
  }
  return { event: GRANT_CHANGED, grants: bodyGrants(body.grants, 'body.grants'), version: body.version };
}

/** Grants inside a message body: a malformed one is the sender's fault, reported like any other bad body field. */
function bodyGrants(value: unknown, field: string): Grants {
  try {
    return validateGrants(value);
  } catch (err) {
    throw badBody(field, `${field} is not valid grants: ${(err as Error).message}`);
  }
}

/** `{ok: true, result} | {ok: false, error: {code, message, details?}}`, nothing else. */
export function parseResponseBody(body: JsonObject): ResponseBody {
  if (body.ok === true) {
    onlyKeys(body, ['ok', 'result'], 'body.');
    if (!('result' in body)) throw badBody('body.result', 'an ok response must carry result');
    return { ok: true, result: body.result };
  }
  if (body.ok !== false) throw badBody('body.ok', 'body.ok must be a boolean');
  onlyKeys(body, ['ok', 'error'], 'body.');
  const err = object(body.error, 'body.error');
  onlyKeys(err, ['code', 'message', 'details'], 'body.error.');
  const error: ErrorInfo = { code: text(err.code, 'body.error.code', 100), message: text(err.message, 'body.error.message', 2000) };
  if (err.details !== undefined) error.details = object(err.details, 'body.error.details');
  return { ok: false, error };
}

/** CONNECT's RESPONSE result; the instance it names must be the key's fingerprint (checked by the caller). */
export function parseConnectResult(result: unknown): ConnectResult {
  const r = object(result, 'result');
  onlyKeys(r, ['state', 'grants', 'instance'], 'result.');
  if (r.state !== 'active' && r.state !== 'pending') throw badBody('result.state', 'result.state must be active or pending');
  const inst = object(r.instance, 'result.instance');
  onlyKeys(inst, ['instanceId', 'name', 'url', 'publicKey'], 'result.instance.');
  if (typeof inst.instanceId !== 'string' || !INSTANCE_ID_RE.test(inst.instanceId)) {
    throw badBody('result.instance.instanceId', 'result.instance.instanceId must be an instance id');
  }
  if (!isHttpUrl(inst.url)) throw badBody('result.instance.url', 'result.instance.url must be an http(s) URL');
  if (!decodePublicKey(inst.publicKey)) throw badBody('result.instance.publicKey', 'result.instance.publicKey must be a base64 Ed25519 key');
  const out: ConnectResult = {
    state: r.state,
    instance: { instanceId: inst.instanceId, name: text(inst.name, 'result.instance.name', 100), url: inst.url, publicKey: inst.publicKey as string },
  };
  if (r.grants !== undefined) out.grants = validateGrants(r.grants);
  return out;
}
