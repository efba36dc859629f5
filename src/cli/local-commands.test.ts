import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { buildProgram } from './program.js';
import { eventually, finished, runCli, startCli } from '../test-support/cli.js';

/** The verbs that work without a server (init, doctor), help, and the not-running message. */

let dir: string;
const mode = (path: string) => statSync(path).mode & 0o777;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mosaic-cli-local-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('mosaic init', () => {
  it('creates the home, token and identity with private modes and never prints the token', async () => {
    const home = join(dir, 'init-home');
    const first = await runCli(['init'], { MOSAIC_HOME: home });
    expect(first.code, first.stderr).toBe(0);
    expect(mode(home)).toBe(0o700);
    expect(mode(join(home, 'admin-token'))).toBe(0o600);
    expect(mode(join(home, 'identity', 'ed25519.pem'))).toBe(0o600);
    const token = readFileSync(join(home, 'admin-token'), 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(first.stdout + first.stderr).not.toContain(token);
    expect(first.stdout).toContain(join(home, 'admin-token'));
    const instanceId = /instance\s+([a-z2-7]{32})/.exec(first.stdout)?.[1];
    expect(instanceId).toBeDefined();

    // Re-running keeps the token and identity; --show-token is the only way to print it.
    const again = await runCli(['init', '--json', '--show-token'], { MOSAIC_HOME: home });
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout) as { instanceId: string; adminToken: string; created: Record<string, boolean> };
    expect(result.instanceId).toBe(instanceId);
    expect(result.adminToken).toBe(token);
    expect(result.created).toEqual({ home: false, adminToken: false, identity: false });
  });
});

describe('mosaic doctor', () => {
  it('fails (exit 1) on an uninitialised home and says to run init', async () => {
    const home = join(dir, 'missing-home');
    const result = await runCli(['doctor', '--url', 'http://127.0.0.1:1'], { MOSAIC_HOME: home });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/✗\s+home\s+.*run `mosaic init`/);
    expect(result.stdout).toMatch(/✓\s+node\s+v\d+/);
    expect(result.stdout).toMatch(/✓\s+git\s+git version/);
    expect(result.stdout).toMatch(/!\s+server\s+no instance at http:\/\/127\.0\.0\.1:1/);
  });

  it('flags a token file readable by others', async () => {
    const home = join(dir, 'loose-home');
    expect((await runCli(['init'], { MOSAIC_HOME: home })).code).toBe(0);
    chmodSync(join(home, 'admin-token'), 0o644);
    const result = await runCli(['doctor', '--json', '--url', 'http://127.0.0.1:1'], { MOSAIC_HOME: home });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'admin token')).toMatchObject({ status: 'fail', detail: expect.stringContaining('0644') });
    expect(report.checks.find((c) => c.name === 'server')?.status).toBe('warn');
  });

  describe('beside a running instance', () => {
    let t: TestInstance;
    beforeAll(async () => {
      t = await startTestInstance();
    });
    afterAll(async () => {
      await t?.stop();
    });

    it('passes every required check, reads the store and reaches the server', async () => {
      const fakeClaude = join(dir, 'no-such-claude');
      const result = await runCli(['doctor', '--json'], { MOSAIC_HOME: t.home, MOSAIC_URL: t.url, MOSAIC_CLAUDE_BIN: fakeClaude });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string }[] };
      const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
      expect(report.ok).toBe(true);
      expect(byName.store).toMatchObject({ status: 'ok', detail: expect.stringMatching(/schema version [1-9]/) });
      expect(byName.identity).toMatchObject({ status: 'ok', detail: `instance ${t.identity.instanceId}` });
      expect(byName.server).toMatchObject({ status: 'ok', detail: expect.stringContaining(t.identity.instanceId) });
      // A missing claude binary is a warning: the command runtime works without it.
      expect(byName.claude).toMatchObject({ status: 'warn', detail: expect.stringContaining(fakeClaude) });
    });

    it('fails when the server refuses the token', async () => {
      const home = join(dir, 'other-home');
      expect((await runCli(['init'], { MOSAIC_HOME: home })).code).toBe(0);
      const result = await runCli(['doctor'], { MOSAIC_HOME: home, MOSAIC_URL: t.url });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/✗\s+server\s+.*refused the admin token/);
    });
  });
});

describe('mosaic up', () => {
  it('serves in the foreground until SIGTERM, reachable by the other verbs', async () => {
    const home = join(dir, 'up-home');
    const child = startCli(['up', '--port', '0'], { MOSAIC_HOME: home, MOSAIC_LOG_LEVEL: 'info' });
    const done = finished(child);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const url = await eventually(() => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1], (found) => found !== undefined, 20_000);
    const status = await runCli(['status', '--json', '--url', url!], { MOSAIC_HOME: home });
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { health: { status: string } }).health.status).toBe('ok');
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });
});

describe('help and usage', () => {
  it('--help works as a process for the program, a group and a verb', async () => {
    const commands = [[], ['agents'], ['agents', 'spawn']];
    const results = await Promise.all(commands.map((args) => runCli([...args, '--help'], {})));
    results.forEach((result, i) => {
      const args = commands[i]!;
      expect(result.code, `${args.join(' ')} --help: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`Usage: mosaic${args.length ? ` ${args.join(' ')}` : ''}`);
    });
    expect(results[0]!.stdout).toMatch(/Exit codes: 0 ok, 1 failure .* 2 usage error/);
    for (const group of ['init', 'up', 'status', 'doctor', 'repos', 'agents', 'worktrees', 'events']) expect(results[0]!.stdout).toContain(`  ${group}`);
    expect(results[1]!.stdout).toMatch(/spawn[\s\S]*list[\s\S]*show[\s\S]*logs[\s\S]*diff[\s\S]*kill[\s\S]*kill-all[\s\S]*discard/);
    expect(results[2]!.stdout).toContain('-- command argv...');
  });

  it('every command in the tree has a description and help text', () => {
    const seen: string[] = [];
    const visit = (command: Command, path: string[]) => {
      seen.push(path.join(' '));
      expect(command.description(), path.join(' ')).not.toBe('');
      expect(command.helpInformation()).toContain(`Usage: ${path.join(' ')}`);
      for (const sub of command.commands) visit(sub, [...path, sub.name()]);
    };
    visit(buildProgram(), ['mosaic']);
    expect(seen).toEqual(expect.arrayContaining([
      'mosaic repos add', 'mosaic repos list', 'mosaic repos remove', 'mosaic agents spawn', 'mosaic agents kill-all',
      'mosaic agents discard', 'mosaic worktrees reconcile', 'mosaic events', 'mosaic doctor', 'mosaic init', 'mosaic status',
    ]));
  });

  it('exits 2 on usage errors and 1 when no instance is running', async () => {
    const [unknown, missing, down] = await Promise.all([
      runCli(['agents', 'frobnicate'], {}),
      runCli(['repos', 'add', 'only-name'], {}),
      runCli(['status', '--url', 'http://127.0.0.1:1'], { MOSAIC_HOME: join(dir, 'nowhere') }),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    expect(missing.code).toBe(2);
    // The path is optional since a repository may be shared by URL instead: one of the two is required.
    expect(missing.stderr).toContain('give the path of the main checkout, or --git-url <url>');
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('no Mosaic instance at http://127.0.0.1:1 — start one with `mosaic up`');
  });
});
