import { mkdirSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../core/logger.js';
import { startInstance } from '../../instance/index.js';
import { makeTempDir, type TempDir } from '../../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { waitFor } from '../../test-support/wait.js';
import { installErrorHandling } from '../errors.js';
import { CONTENT_SECURITY_POLICY, SIGN_IN_MAX_FAILURES, SignInThrottle } from './index.js';
import { dashboardStatic } from './static.js';

const CODE_TTL_MS = 400;

/** Issue 11: sign-in by one-time code or token, the session cookie, and its cross-site defences. */
describe('dashboard sign-in', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await startTestInstance({ loginCodeTtlMs: CODE_TTL_MS });
  });
  afterAll(async () => {
    await t.stop();
  });

  const raw = (path: string, init: RequestInit = {}) => fetch(`${t.url}${path}`, { redirect: 'manual', ...init });
  const newCode = async () => {
    const res = await t.api<{ code: string; path: string; expiresAt: number }>('POST', '/dashboard/login-codes');
    expect(res.status).toBe(201);
    return res.body;
  };
  const cookieOf = (res: Response): string | undefined => res.headers.get('set-cookie')?.split(';')[0];
  const signIn = async (): Promise<string> => {
    const res = await raw((await newCode()).path);
    const cookie = cookieOf(res);
    if (!cookie) throw new Error('no session cookie');
    return cookie;
  };

  it('exchanges a login code once for an HttpOnly, SameSite=Strict cookie and sends the browser to /', async () => {
    const { path, expiresAt } = await newCode();
    expect(path).toMatch(/^\/login\?code=[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBeGreaterThan(Date.now());
    const first = await raw(path);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const setCookie = first.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^mosaic_session=[A-Za-z0-9_-]+;/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    const cookie = cookieOf(first)!;
    expect((await raw('/api/v1/agents', { headers: { cookie } })).status).toBe(200);

    const again = await raw(path);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/?login=failed');
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a code after it expires, and codes it never issued', async () => {
    const { path } = await newCode();
    await new Promise((resolve) => setTimeout(resolve, CODE_TTL_MS + 100));
    const late = await raw(path);
    expect(late.headers.get('location')).toBe('/?login=failed');
    expect(late.headers.get('set-cookie')).toBeNull();
    const forged = await raw('/login?code=made-up');
    expect(forged.headers.get('location')).toBe('/?login=failed');
    expect((await raw('/login')).headers.get('location')).toBe('/?login=failed');
  });

  it('issues login codes to the admin token only', async () => {
    expect((await raw('/api/v1/dashboard/login-codes', { method: 'POST' })).status).toBe(401);
    const cookie = await signIn();
    const bySession = await raw('/api/v1/dashboard/login-codes', {
      method: 'POST', headers: { cookie, origin: t.url, 'x-mosaic-request': '1' },
    });
    expect(bySession.status).toBe(403);
    expect((await bySession.json() as { error: { code: string } }).error.code).toBe('token_required');
  });

  it('accepts the session on reads, and on writes only from its own origin with X-Mosaic-Request', async () => {
    const cookie = await signIn();
    const post = (headers: Record<string, string>) => raw('/api/v1/agents/kill-all', { method: 'POST', headers: { cookie, ...headers } });
    const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

    const foreign = await post({ origin: 'http://evil.example', 'x-mosaic-request': '1' });
    expect(foreign.status).toBe(403);
    expect(await codeOf(foreign)).toBe('cross_origin_refused');
    const crossSite = await post({ origin: t.url, 'x-mosaic-request': '1', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const noHeader = await post({ origin: t.url });
    expect(noHeader.status).toBe(403);
    expect(await codeOf(noHeader)).toBe('request_header_required');
    const noOrigin = await post({ 'x-mosaic-request': '1' });
    expect(noOrigin.status).toBe(403);
    expect(await codeOf(noOrigin)).toBe('origin_required');
    const foreignRead = await raw('/api/v1/agents', { headers: { cookie, origin: 'http://evil.example' } });
    expect(foreignRead.status).toBe(403);

    const ok = await post({ origin: t.url, 'x-mosaic-request': '1' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ total: 0 });
  });

  it('refuses every admin route without a session or with an unknown one', async () => {
    for (const cookie of [undefined, 'mosaic_session=not-a-session']) {
      for (const [method, path] of [['GET', '/agents'], ['GET', '/repos'], ['GET', '/events'], ['GET', '/federation/connections'], ['POST', '/agents/kill-all']] as const) {
        const res = await raw(`/api/v1${path}`, { method, headers: { origin: t.url, 'x-mosaic-request': '1', ...(cookie ? { cookie } : {}) } });
        expect(res.status, `${method} ${path} with ${cookie ?? 'no cookie'}`).toBe(401);
      }
    }
  });

  it('signs in with the pasted token from its own origin only, and signs out', async () => {
    const body = JSON.stringify({ token: t.adminToken });
    const json = { 'content-type': 'application/json' };
    const crossSite = await raw('/api/v1/dashboard/session', { method: 'POST', body, headers: { ...json, origin: 'http://evil.example', 'x-mosaic-request': '1' } });
    expect(crossSite.status).toBe(403);
    const wrong = await raw('/api/v1/dashboard/session', { method: 'POST', body: JSON.stringify({ token: 'nope' }), headers: { ...json, origin: t.url, 'x-mosaic-request': '1' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const ok = await raw('/api/v1/dashboard/session', { method: 'POST', body, headers: { ...json, origin: t.url, 'x-mosaic-request': '1' } });
    expect(ok.status).toBe(200);
    const cookie = cookieOf(ok)!;
    expect(await (await raw('/api/v1/dashboard/session', { headers: { cookie } })).json()).toMatchObject({ signedIn: true });

    const out = await raw('/api/v1/dashboard/session', { method: 'DELETE', headers: { cookie, origin: t.url, 'x-mosaic-request': '1' } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await raw('/api/v1/agents', { headers: { cookie } })).status).toBe(401);
    expect(await (await raw('/api/v1/dashboard/session', { headers: { cookie } })).json()).toEqual({ signedIn: false });
  });

});

/** Issue 16, low: token sign-in and login-code use are throttled per address, one budget for both. */
describe('dashboard sign-in throttle', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await startTestInstance();
  });
  afterAll(async () => {
    await t.stop();
  });

  /** A request to the instance sent from a given loopback address (Linux routes all of 127/8 to lo). */
  const from = (localAddress: string, path: string, opts: { method?: string; body?: string; headers?: Record<string, string> } = {}) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const url = new URL(path, t.url);
      const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: opts.method ?? 'GET', localAddress, headers: opts.headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { body += chunk; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(opts.body);
    });
  const signIn = (address: string, token: string) => from(address, '/api/v1/dashboard/session', {
    method: 'POST', body: JSON.stringify({ token }), headers: { 'content-type': 'application/json', origin: t.url, 'x-mosaic-request': '1' },
  });
  const newCode = async (): Promise<string> => (await t.api<{ path: string }>('POST', '/dashboard/login-codes')).body.path;
  const codeOf = (res: { body: string }): string => (JSON.parse(res.body) as { error: { code: string } }).error.code;

  it('refuses every sign-in from an address after too many failures, the right token and a valid code included; others are unaffected', async () => {
    for (let i = 0; i < SIGN_IN_MAX_FAILURES / 2; i++) expect((await signIn('127.0.0.2', `guess-${i}`)).status).toBe(401);
    for (let i = 0; i < SIGN_IN_MAX_FAILURES / 2; i++) expect((await from('127.0.0.2', `/login?code=guess-${i}`)).status).toBe(303);
    const right = await signIn('127.0.0.2', t.adminToken);
    expect({ status: right.status, code: codeOf(right) }).toEqual({ status: 429, code: 'rate_limited' });
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(right.headers['set-cookie']).toBeUndefined();
    const code = await newCode();
    const viaCode = await from('127.0.0.2', code);
    expect({ status: viaCode.status, code: codeOf(viaCode) }).toEqual({ status: 429, code: 'rate_limited' });
    // Another address signs in, with the same (unspent) code and with the token.
    const other = await from('127.0.0.3', code);
    expect(other.status).toBe(303);
    expect(other.headers.location).toBe('/');
    expect(other.headers['set-cookie']?.[0]).toMatch(/^mosaic_session=/);
    expect((await signIn('127.0.0.3', t.adminToken)).status).toBe(200);
  });

  it('counts failures only: successful sign-ins never use the budget up', async () => {
    for (let i = 0; i < SIGN_IN_MAX_FAILURES * 2; i++) {
      expect((await signIn('127.0.0.4', t.adminToken)).status).toBe(200);
      expect((await from('127.0.0.4', await newCode())).headers.location).toBe('/');
    }
    expect((await signIn('127.0.0.4', 'wrong')).status).toBe(401);
  });
});

describe('SignInThrottle', () => {
  it('opens again when the window ends', () => {
    let now = 0;
    const throttle = new SignInThrottle({ maxFailures: 2, windowMs: 1000, now: () => now });
    throttle.attempt('a');
    throttle.attempt('a');
    expect(() => throttle.attempt('a')).toThrow(expect.objectContaining({ status: 429, code: 'rate_limited', details: { retryAfterS: 1 } }));
    throttle.attempt('b').succeeded();
    now = 1000;
    expect(() => throttle.attempt('a')).not.toThrow();
  });
});

describe('dashboard login log', () => {
  it('keeps the login code out of the request log, which does log other requests', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
    const home = makeTempDir('mosaic-dash-log-');
    // Request lines are written at debug.
    const instance = await startInstance({ env: {}, logger: pino(loggerOptions('debug'), sink), config: { home: home.path, port: 0, logLevel: 'debug' } });
    try {
      const code = 'CODE-THAT-MUST-NOT-BE-LOGGED';
      expect((await fetch(`${instance.url}/login?code=${code}`, { redirect: 'manual' })).status).toBe(303);
      await fetch(`${instance.url}/api/v1/health?probe=LOGGED-MARKER`);
      await waitFor(() => lines.some((line) => line.includes('LOGGED-MARKER')), { what: 'the health request in the log' });
      expect(lines.filter((line) => line.includes(code))).toEqual([]);
    } finally {
      await instance.close();
      home.cleanup();
    }
  });
});

describe('dashboard page', () => {
  let dir: TempDir;
  beforeAll(() => {
    dir = makeTempDir();
    mkdirSync(join(dir.path, 'built', 'assets'), { recursive: true });
    writeFileSync(join(dir.path, 'built', 'index.html'), '<!doctype html><script type="module" src="/assets/app-1.js"></script>');
    writeFileSync(join(dir.path, 'built', 'assets', 'app-1.js'), 'console.log(1)');
    writeFileSync(join(dir.path, 'secret.txt'), 'not served');
  });
  afterAll(() => dir.cleanup());

  const appWith = async (root: string) => {
    const app = Fastify();
    installErrorHandling(app);
    await app.register(dashboardStatic, { root });
    return app;
  };

  it('serves index.html with a strict CSP and the built assets, nothing else', async () => {
    const app = await appWith(join(dir.path, 'built'));
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    const js = await app.inject({ url: '/assets/app-1.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    expect(js.headers['cache-control']).toContain('immutable');
    for (const url of ['/assets/../../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/assets/nope.js', '/secret.txt']) {
      expect((await app.inject({ url })).statusCode, url).toBe(404);
    }
    await app.close();
  });

  it('says the dashboard is not built instead of failing', async () => {
    const app = await appWith(join(dir.path, 'missing'));
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(503);
    expect(page.json()).toMatchObject({ error: { code: 'dashboard_not_built' } });
    await app.close();
  });
});
