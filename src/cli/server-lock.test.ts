import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { waitFor } from '../test-support/wait.js';
import { finished, runCli, startCli, type CliResult } from '../test-support/cli.js';

/**
 * Issue 22, defects 3, 7 and 8: a server on a port that is not the default
 * is found by the CLI of its home through `server.lock`; the banner says
 * what another home needs and, after a restart, no longer suggests
 * `repos add`; a port in use names `--port`.
 */

const dir = mkdtempSync(join(tmpdir(), 'mosaic-lock-'));
const servers: ChildProcess[] = [];
let repo: TempDir | undefined;

interface Server { child: ChildProcess; done: Promise<CliResult>; err: () => string; url: string }

/** The real `mosaic up` on a port the OS picks, with nothing in the environment naming its URL or port. */
async function up(home: string, port = '0'): Promise<Server> {
  const child = startCli(['up', '--port', port], { MOSAIC_HOME: home });
  servers.push(child);
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const done = finished(child);
  const url = await waitFor(() => /is up at (http:\/\/\S+)/.exec(err)?.[1], { timeoutMs: 30_000, what: 'the banner' });
  return { child, done, err: () => err, url };
}

async function stop(server: Server): Promise<void> {
  server.child.kill('SIGTERM');
  await server.done;
}

afterEach(() => {
  for (const child of servers.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(() => {
  repo?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('the CLI finds its home\'s server through server.lock', () => {
  it('status and doctor reach a server on a port that is not the default, with neither MOSAIC_URL nor MOSAIC_PORT set', async () => {
    const home = join(dir, 'a');
    const server = await up(home);
    try {
      expect(server.url).not.toContain(':7420');
      const status = await runCli(['status', '--json'], { MOSAIC_HOME: home });
      expect(status.code, status.stderr).toBe(0);
      expect((JSON.parse(status.stdout) as { url: string }).url).toBe(server.url);

      const doctor = await runCli(['doctor', '--json'], { MOSAIC_HOME: home });
      const check = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === 'server');
      expect(check).toMatchObject({ status: 'ok' });
      expect(check!.detail).toContain(server.url);
      expect(check!.detail).toContain(`found through ${join(home, 'server.lock')}`);

      // MOSAIC_PORT names another server: the lock is not consulted.
      const elsewhere = await runCli(['status'], { MOSAIC_HOME: home, MOSAIC_PORT: '9' });
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.stderr).toContain('127.0.0.1:9');

      // Another home (or host) needs the URL: the banner says so.
      expect(server.err()).toContain(`export MOSAIC_HOME=${home} MOSAIC_URL=${server.url}`);
    } finally {
      await stop(server);
    }
  }, 120_000);

  it('a restart with repositories registered suggests spawning, not `repos add`; a port in use names --port', async () => {
    const home = join(dir, 'b');
    repo = await makeTempRepo();
    const first = await up(home);
    expect(first.err()).toContain('mosaic repos add');
    try {
      const added = await runCli(['repos', 'add', 'app', repo.path], { MOSAIC_HOME: home });
      expect(added.code, added.stderr).toBe(0);
      const port = new URL(first.url).port;
      const clash = await runCli(['up', '--port', port], { MOSAIC_HOME: join(dir, 'c') });
      expect(clash.code).toBe(1);
      expect(clash.stderr).toContain('port_in_use');
      expect(clash.stderr).toContain(`:${port} is already in use`);
      expect(clash.stderr).toContain('--port <n>');
    } finally {
      await stop(first);
    }
    const again = await up(home);
    try {
      expect(again.err()).not.toContain('mosaic repos add');
      expect(again.err()).toContain('mosaic repos list   (1 registered)');
      expect(again.err()).toContain('mosaic agents spawn');
    } finally {
      await stop(again);
    }
  }, 120_000);
});
