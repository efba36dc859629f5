import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import { fingerprint, rawPublicKey } from '../identity/index.js';
import { parseCommandBody, parseConnectBody, parseConnectResult, parseEventBody, parseQueryBody, parseResponseBody } from './bodies.js';
import { errorBody, kindFromPath, makeEnvelope, makeResponse, okBody, parseEnvelope, ProtocolError } from './envelope.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const valid = () => makeEnvelope({ kind: 'QUERY', from: A, to: B, ts: 1000, body: { query: 'agents' } });

function rejection(fn: () => unknown): { code: string; status: number; field?: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MosaicError);
    const e = err as MosaicError;
    return { code: e.code, status: e.status, field: e.details?.field };
  }
  throw new Error('expected a rejection');
}

describe('parseEnvelope', () => {
  it('round-trips what makeEnvelope builds, from bytes or a string', () => {
    const env = valid();
    expect(env.id).toMatch(/^[0-9a-f-]{36}$/);
    expect('correlationId' in env).toBe(false);
    expect(parseEnvelope(Buffer.from(JSON.stringify(env)))).toEqual(env);
    expect(parseEnvelope(JSON.stringify(env))).toEqual(env);
  });

  it('rejects anything not exactly the envelope shape, naming the field', () => {
    const with_ = (patch: Record<string, unknown>) => JSON.stringify({ ...valid(), ...patch });
    const without = (key: string) => { const e: Record<string, unknown> = { ...valid() }; delete e[key]; return JSON.stringify(e); };
    const cases: Array<[string, string, string | undefined]> = [
      [with_({ extra: 1 }), 'invalid_envelope', 'extra'],
      ['{"v":1,"__proto__":{}}', 'invalid_envelope', '__proto__'],
      [with_({ id: 'not-a-uuid' }), 'invalid_envelope', 'id'],
      [with_({ id: valid().id.toUpperCase() }), 'invalid_envelope', 'id'],
      [with_({ kind: 'PING' }), 'invalid_envelope', 'kind'],
      [with_({ from: 'A'.repeat(32) }), 'invalid_envelope', 'from'],
      [with_({ to: 'b'.repeat(31) }), 'invalid_envelope', 'to'],
      [with_({ to: '1'.repeat(32) }), 'invalid_envelope', 'to'],
      [with_({ ts: 1.5 }), 'invalid_envelope', 'ts'],
      [with_({ ts: '1000' }), 'invalid_envelope', 'ts'],
      [with_({ ts: 2 ** 53 }), 'invalid_envelope', 'ts'],
      [with_({ body: [] }), 'invalid_envelope', 'body'],
      [with_({ body: null }), 'invalid_envelope', 'body'],
      [with_({ correlationId: 42 }), 'invalid_envelope', 'correlationId'],
      [with_({ kind: 'RESPONSE' }), 'invalid_envelope', 'correlationId'],
      [with_({ v: '1' }), 'invalid_envelope', 'v'],
      [without('v'), 'invalid_envelope', 'v'],
      [without('body'), 'invalid_envelope', 'body'],
      [without('ts'), 'invalid_envelope', 'ts'],
      [with_({ v: 2 }), 'unsupported_protocol_version', undefined],
      ['[1,2]', 'invalid_envelope', undefined],
      ['{"v":1', 'invalid_json', undefined],
      ['', 'invalid_json', undefined],
    ];
    for (const [raw, code, field] of cases) {
      expect({ raw, ...rejection(() => parseEnvelope(raw)) }).toEqual({ raw, code, status: 400, field });
    }
  });

  it('rejects invalid UTF-8 as invalid_json and throws ProtocolError instances', () => {
    const bytes = Buffer.concat([Buffer.from('{"v":1,"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    expect(() => parseEnvelope(bytes)).toThrow(ProtocolError);
    expect(rejection(() => parseEnvelope(bytes)).code).toBe('invalid_json');
  });
});

describe('responses and kinds', () => {
  it('makeResponse answers the request from self to its sender, correlated by id', () => {
    const req = valid();
    const res = makeResponse(B, req, okBody({ n: 1 }), 2000);
    expect(res).toMatchObject({ kind: 'RESPONSE', from: B, to: A, correlationId: req.id, ts: 2000, body: { ok: true, result: { n: 1 } } });
    expect(res.id).not.toBe(req.id);
    expect(parseEnvelope(JSON.stringify(res)).correlationId).toBe(req.id);
  });

  it('errorBody keeps code, message and details of a MosaicError', () => {
    const err = new MosaicError(403, 'repo_not_granted', 'no', { repo: 'x' });
    expect(errorBody(err)).toEqual({ ok: false, error: { code: 'repo_not_granted', message: 'no', details: { repo: 'x' } } });
  });

  it('maps route segments to inbound kinds only', () => {
    expect(kindFromPath('command')).toBe('COMMAND');
    expect(kindFromPath('connect')).toBe('CONNECT');
    expect(kindFromPath('response')).toBeUndefined();
    expect(kindFromPath('COMMAND')).toBeUndefined();
  });
});

describe('body parsers', () => {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);

  it('parses a CONNECT body and rejects bad keys, URLs and extra fields', () => {
    const body = { name: 'hub', url: 'https://hub.example', publicKey: raw.toString('base64'), protocolVersion: '1' };
    expect(parseConnectBody(body).publicKeyRaw.equals(raw)).toBe(true);
    expect(rejection(() => parseConnectBody({ ...body, publicKey: raw.subarray(0, 31).toString('base64') })).field).toBe('body.publicKey');
    expect(rejection(() => parseConnectBody({ ...body, url: 'file:///etc/passwd' })).field).toBe('body.url');
    expect(rejection(() => parseConnectBody({ ...body, url: 'http://u:p@x' })).field).toBe('body.url');
    expect(rejection(() => parseConnectBody({ ...body, admin: true })).field).toBe('body.admin');
    expect(rejection(() => parseConnectBody({ ...body, name: 'a\nb' })).field).toBe('body.name');
  });

  it('parses COMMAND, QUERY and EVENT bodies with distinct codes for unknown names', () => {
    expect(parseCommandBody({ command: 'agent.list' })).toEqual({ command: 'agent.list', args: {} });
    expect(rejection(() => parseCommandBody({ command: 'agent.exec', args: {} })).code).toBe('unknown_command');
    expect(rejection(() => parseCommandBody({ command: 'agent.spawn', args: { peer: 'x' } })).field).toBe('body.args.peer');
    expect(parseQueryBody({ query: 'events', args: { after: 3 } })).toEqual({ query: 'events', args: { after: 3 } });
    expect(rejection(() => parseQueryBody({ query: 'secrets' })).code).toBe('unknown_query');
    expect(rejection(() => parseEventBody({ event: 'agent.state', agent: 'x' })).field).toBe('body.agent');
    expect(rejection(() => parseEventBody({ event: 'agent.gone', agent: {} })).code).toBe('unknown_event');
  });

  it('parses response bodies strictly', () => {
    expect(parseResponseBody({ ok: true, result: null })).toEqual({ ok: true, result: null });
    expect(rejection(() => parseResponseBody({ ok: true })).field).toBe('body.result');
    expect(rejection(() => parseResponseBody({ ok: false, error: { code: 'x' } })).field).toBe('body.error.message');
    expect(rejection(() => parseResponseBody({ ok: 'yes', result: 1 })).field).toBe('body.ok');
    expect(rejection(() => parseResponseBody({ ok: true, result: 1, error: {} })).field).toBe('body.error');
  });

  it('parses a CONNECT result and validates its grants', () => {
    const instance = { instanceId: fingerprint(raw), name: 'spoke', url: 'http://127.0.0.1:1', publicKey: raw.toString('base64') };
    const grants = { commands: ['agent.list'], repos: ['*'], runtimes: ['claude'], maxActiveAgents: 2 };
    expect(parseConnectResult({ state: 'active', grants, instance }).grants).toEqual(grants);
    expect(rejection(() => parseConnectResult({ state: 'active', grants: { ...grants, maxActiveAgents: -1 }, instance })).code).toBe('invalid_grants');
    expect(rejection(() => parseConnectResult({ state: 'rejected', instance })).field).toBe('result.state');
  });
});
