import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../test-support/wait.js';
import { finished, ROOT, runCli, startCli, type CliResult } from '../test-support/cli.js';

/** Issue 9, point 12: what `mosaic up` prints — log lines for machines or people, requests at debug, the banner. */

const dir = mkdtempSync(join(tmpdir(), 'mosaic-up-output-'));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Server {
  child: ChildProcess;
  done: Promise<CliResult>;
  out: () => string;
  err: () => string;
  url: string;
}

let running: Server | undefined;

/** Starts the real `mosaic up` on port 0 (stdout and stderr are pipes, not a terminal) and waits for its banner. */
async function up(name: string, args: string[], env: Record<string, string>): Promise<Server> {
  const home = join(dir, name);
  const child = startCli(['up', '--port', '0', ...args], { MOSAIC_HOME: home, ...env });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = finished(child);
  // Known before the banner, so afterEach kills a server that never printed one.
  running = { child, done, out: () => out, err: () => err, url: '' };
  running.url = await waitFor(() => /is up at (http:\/\/\S+)/.exec(err)?.[1], { timeoutMs: 30_000, what: 'the banner on stderr' });
  return running;
}

async function stop(server: Server): Promise<CliResult> {
  server.child.kill('SIGTERM');
  const result = await server.done;
  running = undefined;
  return result;
}

afterEach(() => {
  running?.child.kill('SIGKILL');
  running = undefined;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('mosaic up output', () => {
  it('writes JSON lines when stdout is not a terminal, requests only at debug, and a banner that names what is true', { timeout: 60_000 }, async () => {
    const server = await up('json', [], { MOSAIC_LOG_LEVEL: 'debug' });
    const health = await fetch(`${server.url}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { version: string }).version).toBe(VERSION);

    type Line = { level: number; msg: string; req?: { url?: string }; res?: { statusCode?: number } };
    const lines = () => server.out().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line);
    const request = await waitFor(() => lines().find((line) => line.req?.url === '/api/v1/health'), { what: 'the health request line' });
    expect(request).toMatchObject({ level: 20, msg: 'request completed', res: { statusCode: 200 } });
    // The one line for that request is at debug: nothing at info or above mentions it.
    expect(lines().filter((line) => line.level >= 30 && JSON.stringify(line).includes('/api/v1/health'))).toEqual([]);
    expect(lines().find((line) => line.msg === 'mosaic is up')).toMatchObject({ level: 30, version: VERSION, sandbox: 'bubblewrap' });

    const banner = server.err();
    expect(banner).toContain(`Mosaic ${VERSION} is up at ${server.url}`);
    expect(banner).toMatch(new RegExp(`home\\s+${join(dir, 'json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    expect(banner).toMatch(/sandbox\s+bubblewrap ok \(\/\S*bwrap\)/);
    expect(banner).toContain(`${server.url}/`);
    expect(banner).toContain('mosaic repos add');
    expect(banner).toContain('mosaic agents spawn');
    // Another shell needs this home and URL (neither is the default), so the banner says how to point the CLI here.
    expect(banner).toContain(`export MOSAIC_HOME=${join(dir, 'json')} MOSAIC_URL=${server.url}`);

    const result = await stop(server);
    expect(result.code).toBe(0);
    expect(() => lines()).not.toThrow();
  });

  it('writes human-readable lines with --log-format pretty, and says when there is no sandbox', { timeout: 60_000 }, async () => {
    const server = await up('pretty', ['--log-format', 'pretty'], { MOSAIC_LOG_LEVEL: 'debug', MOSAIC_BWRAP: 'bwrap-not-installed-here' });
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
    const line = await waitFor(() => server.out().split('\n').find((l) => l.includes('/api/v1/health')), { what: 'the health request line' });
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] DEBUG: GET \/api\/v1\/health 200 \d+ms$/);
    const lines = server.out().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(() => JSON.parse(l), l).toThrow();
    expect(lines.some((l) => /INFO: mosaic is up/.test(l))).toBe(true);
    expect(server.err()).toMatch(/sandbox\s+unavailable: bubblewrap \(bwrap-not-installed-here\) not found/);
    expect((await stop(server)).code).toBe(0);
  });

  it('refuses an unknown log format as a usage error', async () => {
    const result = await runCli(['up', '--log-format', 'xml'], { MOSAIC_HOME: join(dir, 'bad') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/json, pretty/);
  });
});
