import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MosaicError } from '../../core/errors.js';
import { fingerprint, rawPublicKey } from '../identity/index.js';
import { sendEnvelope, sendVerified } from './client.js';
import { errorBody, makeEnvelope, makeResponse, okBody, parseEnvelope, type Envelope } from './envelope.js';
import { encodeSigned } from './signing.js';
import { verifyInbound } from './verify.js';

interface Party { id: string; raw: Buffer; privateKey: KeyObject }
function party(): Party {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  return { id: fingerprint(raw), raw, privateKey };
}
const hub = party();
const spoke = party();

interface Received { url: string; contentType: string | undefined; signature: string | undefined; bytes: Buffer }
type Handler = (req: Received, n: number, res: ServerResponse) => void;

let server: Server | undefined;
async function peer(handler: Handler): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        signature: req.headers['mosaic-signature'] as string | undefined,
        bytes: Buffer.concat(chunks),
      };
      received.push(r);
      handler(r, received.length, res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, received };
}

afterEach(async () => {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

/** Answers like a spoke: verifies the request for real and replies with a signed RESPONSE. */
function answer(res: ServerResponse, status: number, request: Received, body = okBody({ agents: [] })): void {
  const { envelope } = verifyInbound({
    bytes: request.bytes, signatureHeader: request.signature, kind: 'COMMAND', self: spoke.id, now: Date.now(),
    lookupPeer: (id) => (id === hub.id ? { state: 'active', publicKey: hub.raw } : undefined),
  });
  const { bytes, signature } = encodeSigned(makeResponse(spoke.id, envelope, body), spoke.privateKey);
  res.writeHead(status, { 'content-type': 'application/json', 'mosaic-signature': signature }).end(bytes);
}

const command = (): Envelope => makeEnvelope({ kind: 'COMMAND', from: hub.id, to: spoke.id, body: { command: 'agent.list', args: {} } });
const send = (url: string, envelope: Envelope, extra: Partial<Parameters<typeof sendEnvelope>[0]> = {}) =>
  sendEnvelope({ url, kind: 'COMMAND', envelope, privateKey: hub.privateKey, backoffMs: 10, ...extra });

async function rejection(p: Promise<unknown>): Promise<MosaicError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(MosaicError);
  return err as MosaicError;
}

describe('sendEnvelope', () => {
  it('retries 503 with the same id and bytes, then returns the signed RESPONSE', async () => {
    const { url, received } = await peer((req, n, res) => (n <= 2 ? res.writeHead(503).end('busy') : answer(res, 200, req)));
    const env = command();
    const out = await send(url, env);
    expect(received).toHaveLength(3);
    expect(out.attempts).toBe(3);
    expect(received[0]!.url).toBe('/api/v1/federation/incoming/command');
    expect(received[0]!.contentType).toBe('application/json');
    for (const r of received) {
      expect(r.bytes.equals(received[0]!.bytes)).toBe(true);
      expect(r.signature).toBe(received[0]!.signature);
      expect(parseEnvelope(r.bytes).id).toBe(env.id);
    }
    expect(out.status).toBe(200);
    expect(out.response.correlationId).toBe(env.id);
    expect(out.response.body).toEqual({ ok: true, result: { agents: [] } });
    expect(out.signature).toMatch(/^ed25519=/);
  });

  it('sendVerified checks the answer against the peer key', async () => {
    const { url } = await peer((req, _n, res) => answer(res, 200, req));
    const env = command();
    const ok = await sendVerified({ url, kind: 'COMMAND', envelope: env, privateKey: hub.privateKey, peerPublicKey: spoke.raw });
    expect(ok.response.correlationId).toBe(env.id);
    const wrongKey = await rejection(sendVerified({ url, kind: 'COMMAND', envelope: command(), privateKey: hub.privateKey, peerPublicKey: hub.raw }));
    expect(wrongKey.code).toBe('bad_response_signature');
  });

  it('never retries a 4xx, and returns a signed error RESPONSE as is', async () => {
    const { url, received } = await peer((req, _n, res) => answer(res, 403, req, errorBody({ code: 'command_not_granted', message: 'no' })));
    const out = await send(url, command());
    expect(received).toHaveLength(1);
    expect(out.status).toBe(403);
    expect(out.response.body).toEqual({ ok: false, error: { code: 'command_not_granted', message: 'no' } });
  });

  it('turns an unsigned 400 into peer_rejected without retrying', async () => {
    const { url, received } = await peer((_r, _n, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'invalid_envelope', message: 'bad' } })));
    const err = await rejection(send(url, command()));
    expect(received).toHaveLength(1);
    expect(err.code).toBe('peer_rejected');
    expect(err.status).toBe(502);
    expect(err.details).toEqual({ peerStatus: 400, peerCode: 'invalid_envelope', peerMessage: 'bad' });
  });

  it('times out a peer that never answers', async () => {
    const { url, received } = await peer(() => undefined);
    const err = await rejection(send(url, command(), { timeoutMs: 150, retries: 0 }));
    expect(err.code).toBe('peer_timeout');
    expect(err.status).toBe(504);
    expect(received).toHaveLength(1);
  });

  it('retries timeouts with the same bytes before giving up', async () => {
    const { url, received } = await peer(() => undefined);
    const err = await rejection(send(url, command(), { timeoutMs: 100, retries: 1 }));
    expect(err.code).toBe('peer_timeout');
    expect(received).toHaveLength(2);
    expect(received[1]!.bytes.equals(received[0]!.bytes)).toBe(true);
  });

  it('reports peer_unreachable after retrying a refused connection', async () => {
    const { url } = await peer(() => undefined);
    server!.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const err = await rejection(send(url, command(), { retries: 2 }));
    expect(err.code).toBe('peer_unreachable');
    expect(err.status).toBe(502);
    expect(err.message).toContain('3 attempts');
  });

  it('gives up on a peer that keeps failing with 500 after all retries', async () => {
    const { url, received } = await peer((_r, _n, res) => res.writeHead(500).end('boom'));
    const err = await rejection(send(url, command(), { retries: 1 }));
    expect(err.code).toBe('peer_error');
    expect(received).toHaveLength(2);
  });

  it('refuses oversize and non-envelope answers, and bad peer URLs', async () => {
    const { url } = await peer((_r, n, res) => (n === 1 ? res.writeHead(200).end(Buffer.alloc(1024 * 1024 + 10, 0x20)) : res.writeHead(200).end('{}')));
    expect((await rejection(send(url, command()))).code).toBe('peer_bad_response');
    expect((await rejection(send(url, command()))).code).toBe('peer_bad_response');
    expect((await rejection(send('ftp://x', command()))).code).toBe('invalid_peer_url');
  });
});
