import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, CliError, parseSse, type SseEvent } from './client.js';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function collectEvents(source: AsyncIterable<Uint8Array>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSse(source)) events.push(event);
  return events;
}

describe('parseSse', () => {
  it('parses frames split anywhere, multi-line data, comments and CRLF', async () => {
    const events = await collectEvents(chunks(
      ': ping\n\nid: 1\nevent: agent.state\nda', 'ta: {"a":1}\n\n',
      'event: lines\r', '\ndata: one\r\ndata: two\r\n\r\n',
      'data: no-event\n\n',
      'id: 9\ndata: unterminated',
    ));
    expect(events).toEqual([
      { id: '1', event: 'agent.state', data: '{"a":1}' },
      { id: '1', event: 'lines', data: 'one\ntwo' },
      { id: '1', event: 'message', data: 'no-event' },
    ]);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: ✓ ok\n\n');
    const events = await collectEvents((async function* () {
      yield bytes.subarray(0, 7);
      yield bytes.subarray(7);
    })());
    expect(events[0]?.data).toBe('✓ ok');
  });
});

describe('ApiClient', () => {
  let server: Server;
  let url: string;
  const seen: { auth?: string | undefined; url?: string | undefined } = {};

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.auth = req.headers.authorization;
      seen.url = req.url;
      if (req.url?.startsWith('/api/v1/conflict')) {
        res.writeHead(409, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'agent_active', message: 'kill it first', details: { state: 'running' } } }));
      } else if (req.url?.startsWith('/api/v1/text')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('diff --git');
      } else if (req.url?.startsWith('/api/v1/denied')) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'auth_invalid', message: 'invalid admin token' } }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the bearer token and query, and parses JSON or text by content type', async () => {
    const client = new ApiClient({ url, token: 'secret' });
    expect(await client.get('/agents', { state: 'running', repo: undefined })).toEqual({ ok: true });
    expect(seen).toEqual({ auth: 'Bearer secret', url: '/api/v1/agents?state=running' });
    expect(await client.get<string>('/text')).toBe('diff --git');
  });

  it('turns error bodies into CliError with code, status and details', async () => {
    const client = new ApiClient({ url, token: 'secret', tokenPath: '/h/admin-token' });
    const err = await client.post('/conflict').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).toJSON()).toEqual({ code: 'agent_active', message: 'kill it first', status: 409, details: { state: 'running' } });
    const denied = (await client.get('/denied').catch((e: unknown) => e)) as CliError;
    expect(denied.message).toContain('/h/admin-token');
  });

  it('says how to start an instance when nothing listens', async () => {
    const err = (await new ApiClient({ url: 'http://127.0.0.1:1', token: undefined }).get('/health').catch((e: unknown) => e)) as CliError;
    expect(err.code).toBe('not_running');
    expect(err.message).toContain('no Mosaic instance at http://127.0.0.1:1 — start one with `mosaic up`');
  });
});
