import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestWithHost } from '../test-support/http.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { HostAllowList } from './allowed-hosts.js';

describe('HostAllowList', () => {
  const list = new HostAllowList({ host: '0.0.0.0', url: 'https://Mosaic.Example.org:8443/', allowedHosts: ['proxy.internal', '[fd00::1]', 'bad host'] });

  it('answers to loopback names, MOSAIC_HOST, the URL host and MOSAIC_ALLOWED_HOSTS, on any port, in any case', () => {
    for (const host of ['localhost', 'LOCALHOST:7420', '127.0.0.1:9', '[::1]:7420', '0.0.0.0', 'mosaic.example.org', 'mosaic.example.org.:443', 'proxy.internal:80', '[FD00::1]:1']) {
      expect(list.allowsHost(host), host).toBe(true);
    }
  });

  it('refuses any other name, a missing Host and malformed values', () => {
    for (const host of [undefined, '', 'evil.example', 'evil.example:7420', 'localhost.evil.example', '127.0.0.2', 'a@localhost', 'localhost/x', 'bad host', '[::2]']) {
      expect(list.allowsHost(host), String(host)).toBe(false);
    }
  });

  it('accepts an Origin only from a page under one of those names', () => {
    expect(list.allowsOrigin('http://localhost:5173')).toBe(true);
    expect(list.allowsOrigin('https://mosaic.example.org:8443')).toBe(true);
    expect(list.allowsOrigin('http://evil.example')).toBe(false);
    expect(list.allowsOrigin('null')).toBe(false);
    expect(list.allowsOrigin('file:///localhost')).toBe(false);
  });
});

/** Issue 16 (low): a DNS-rebinding page reaches the dashboard under its own name; it must get 421. */
describe('dashboard Host allow-list on a real server', () => {
  let t: TestInstance;
  beforeAll(async () => {
    t = await startTestInstance({ allowedHosts: ['mosaic.lan'], url: 'http://mosaic.example.org:9999' });
  });
  afterAll(async () => {
    await t.stop();
  });
  const port = () => new URL(t.url).port;

  it('refuses the page, the login URL and the session API under a foreign Host with 421 misdirected_host', async () => {
    for (const path of ['/', '/assets/x.js', '/login?code=abc', '/api/v1/dashboard/session']) {
      const res = await requestWithHost(`${t.url}${path}`, `evil.example:${port()}`);
      expect(res.status, path).toBe(421);
      expect(JSON.parse(res.body).error.code, path).toBe('misdirected_host');
    }
  });

  it('answers the same routes under the names it serves', async () => {
    for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, 'mosaic.example.org:9999', 'mosaic.lan']) {
      const res = await requestWithHost(`${t.url}/api/v1/dashboard/session`, host);
      expect(res.status, host).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ signedIn: false });
      expect((await requestWithHost(`${t.url}/login?code=abc`, host)).status, host).toBe(303);
    }
  });

  it('refuses a valid session cookie under a foreign Host', async () => {
    const code = await t.api<{ path: string }>('POST', '/dashboard/login-codes');
    const login = await fetch(`${t.url}${code.body.path}`, { redirect: 'manual' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await requestWithHost(`${t.url}/api/v1/agents`, `127.0.0.1:${port()}`, { headers: { cookie } })).status).toBe(200);
    const foreign = await requestWithHost(`${t.url}/api/v1/agents`, `evil.example:${port()}`, { headers: { cookie } });
    expect(foreign.status).toBe(421);
  });

  it('leaves signed federation traffic alone: peers may reach this instance under any name', async () => {
    const res = await requestWithHost(`${t.url}/api/v1/federation/instance`, 'some-other-name.example');
    expect(res.status).toBe(200);
  });
});
