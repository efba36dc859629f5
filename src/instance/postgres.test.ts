import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { runCli } from '../test-support/cli.js';
import { spawnRemote, startPair } from '../test-support/federation.js';
import { startInstanceWithRepo, startTestInstance } from '../test-support/instance.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { waitFor } from '../test-support/wait.js';
import { startInstance } from './index.js';
import { instanceMigrations } from './migrations.js';

/**
 * The core flows with the store on PostgreSQL (issue 20): spawn, kill, land, retry, the dashboard's list,
 * restart with a running agent, federation hub and spoke each on its own
 * database; one standalone instance per database; an unreachable database at
 * start is a clear error naming it without its password.
 */
describe('an instance on PostgreSQL', () => {
  const databases: TestDatabase[] = [];
  const database = async (): Promise<string> => {
    const db = await createTestDatabase();
    databases.push(db);
    return db.url;
  };
  let url: string;
  beforeAll(async () => { url = await database(); });
  afterAll(async () => { await Promise.allSettled(databases.map((db) => db.drop())); });

  it('spawns, completes and kills agents, and keeps a running agent across a restart', async () => {
    const env = await startInstanceWithRepo({ config: { databaseUrl: url } });
    const { t } = env;
    try {
      expect(t.store.describe()).toMatch(/^PostgreSQL 127\.0\.0\.1:\d+\/mosaic_test_/);
      // `mosaic status` names the store through GET /status: host and database, never the password.
      const status = await runCli(['status', '--json'], { MOSAIC_HOME: t.home, MOSAIC_URL: t.url });
      expect(status.code, status.stderr).toBe(0);
      const { store } = JSON.parse(status.stdout) as { store: { backend: string; description: string } };
      expect(store).toEqual({ backend: 'postgres', description: t.store.describe() });
      expect(status.stdout).not.toContain(`:${new URL(url).password}@`);
      const done = await spawnCommand(t, 'echo hello > out.txt');
      expect((await waitForState(t, done.id)).state).toBe('completed');
      const sleeper = await spawnCommand(t, 'sleep 300', { taskId: 'sleeper' });
      await waitForState(t, sleeper.id, ['running']);
      expect((await t.api('POST', `/agents/${sleeper.id}/kill`)).status).toBeLessThan(300);
      expect((await waitForState(t, sleeper.id)).state).toBe('killed');

      // A running agent outlives its server; the next server on the same home and database records its end.
      const survivor = await spawnCommand(t, 'while [ ! -f go ]; do sleep 0.05; done; echo done', { taskId: 'survivor' });
      const marker = join(survivor.worktreePath, 'go'); // its own worktree: all a sandboxed agent sees
      await waitForState(t, survivor.id, ['running']);
      await t.stop(true);
      const again = await startTestInstance({ databaseUrl: url }, t.home);
      try {
        expect((await again.api<PublicAgent>('GET', `/agents/${survivor.id}`)).body.state).toBe('running');
        writeFileSync(marker, '');
        expect((await waitForState(again, survivor.id)).state).toBe('completed');
        const seqs = (await again.store.events.after(0, 10_000)).map((e) => e.seq);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      } finally {
        await again.stop();
      }
    } finally {
      env.repo.cleanup();
    }
  }, 120_000);

  it('lands and retries agents, and lists them to the dashboard', async () => {
    const env = await startInstanceWithRepo({ config: { databaseUrl: await database() } });
    const { t, repo } = env;
    try {
      const worker = await waitForState(t, (await spawnCommand(t, 'echo w > w.txt && git add w.txt && git commit -qm "add w"', { taskId: 'land-me' })).id);
      expect(worker.state).toBe('completed');
      const landed = await t.api<{ agent: PublicAgent; landed: { into: string; commit: string } }>('POST', `/agents/${worker.id}/land`, {});
      expect(landed.status, JSON.stringify(landed.body)).toBe(200);
      expect(landed.body.landed.into).toBe('main');
      expect(git(repo.path, 'rev-parse', 'main')).toBe(landed.body.landed.commit);
      expect((await t.api<PublicAgent>('GET', `/agents/${worker.id}`)).body.landed).toMatchObject({ into: 'main', strategy: 'merge' });

      const failing = await waitForState(t, (await spawnCommand(t, 'exit 3', { taskId: 'retry-me' })).id);
      expect(failing.state).toBe('failed');
      const retried = await t.api<PublicAgent>('POST', `/agents/${failing.id}/retry`, {});
      expect(retried.status, JSON.stringify(retried.body)).toBe(202);
      expect(retried.body.retryOf).toMatchObject({ agentId: failing.id });
      expect((await waitForState(t, retried.body.id)).state).toBe('failed');

      // The dashboard's list: its session cookie from a one-time login code, then GET /agents?scope=all as the page does.
      const { path } = (await t.api<{ path: string }>('POST', '/dashboard/login-codes')).body;
      const cookie = (await fetch(`${t.url}${path}`, { redirect: 'manual' })).headers.get('set-cookie')?.split(';')[0];
      expect(cookie).toBeDefined();
      const list = await fetch(`${t.url}/api/v1/agents?scope=all`, { headers: { cookie: cookie! } });
      expect(list.status).toBe(200);
      const { agents } = (await list.json()) as { agents: PublicAgent[] };
      expect(agents.map((a) => [a.id, a.state])).toEqual([[worker.id, 'completed'], [failing.id, 'failed'], [retried.body.id, 'failed']]);
      const types = (await t.store.events.after(0, 10_000)).map((e) => e.type);
      expect(types).toContain('agent.landed');
    } finally {
      await env.stop();
    }
  }, 120_000);

  it('doctor checks the database: reachable, migrated to the version the server runs, never the password', async () => {
    const dbUrl = await database();
    const t = await startTestInstance({ databaseUrl: dbUrl });
    try {
      const env = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url, MOSAIC_DATABASE_URL: dbUrl, MOSAIC_CLAUDE_BIN: '/nonexistent/claude' };
      const ok = await runCli(['doctor', '--json'], env);
      const store = (JSON.parse(ok.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === 'store');
      // Every module's migrations count (A2A, cluster): a database the server migrated is not "newer than this Mosaic".
      const newest = Math.max(...instanceMigrations().map((m) => m.version));
      expect(store).toMatchObject({ status: 'ok', detail: expect.stringContaining(`schema version ${newest})`) });
      expect(store!.detail).toMatch(/^PostgreSQL 127\.0\.0\.1:\d+\/mosaic_test_\w+ \(PostgreSQL \d+/);
      expect(ok.stdout).not.toContain(':mosaic_test@');

      const down = await runCli(['doctor', '--json'], { ...env, MOSAIC_DATABASE_URL: 'postgres://mosaic:s3cret@127.0.0.1:1/nowhere' });
      expect(down.code).toBe(1);
      const failed = (JSON.parse(down.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === 'store');
      expect(failed).toMatchObject({ status: 'fail', detail: expect.stringContaining('cannot reach the database at postgres://mosaic:***@127.0.0.1:1/nowhere') });
      expect(down.stdout).not.toContain('s3cret');
    } finally {
      await t.stop();
    }
  }, 60_000);

  it('refuses a second standalone instance on a database another live instance uses', async () => {
    const first = await startTestInstance({ databaseUrl: url });
    const home = mkdtempSync(join(tmpdir(), 'mosaic-home-'));
    try {
      await expect(startInstance({ env: {}, config: { home, port: 0, host: '127.0.0.1', logLevel: 'silent', databaseUrl: url } }))
        .rejects.toMatchObject({ status: 409, code: 'database_in_use' });
    } finally {
      await first.stop();
      rmSync(home, { recursive: true, force: true });
    }
    // Once the first is gone, another may start.
    const next = await startTestInstance({ databaseUrl: url });
    await next.stop();
  }, 60_000);

  it('says which database it cannot reach, without its password', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mosaic-home-'));
    try {
      const err = await startInstance({
        env: {}, config: { home, port: 0, host: '127.0.0.1', logLevel: 'silent', databaseUrl: 'postgres://mosaic:s3cret@127.0.0.1:1/nowhere' },
      }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ status: 503, code: 'store_unavailable' });
      expect((err as Error).message).toContain('cannot reach the database at postgres://mosaic:***@127.0.0.1:1/nowhere');
      expect((err as Error).message).not.toContain('s3cret');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('runs a federation hub and spoke on their own databases', async () => {
    const pair = await startPair({ hubConfig: { databaseUrl: await database() }, spokeConfig: { databaseUrl: await database() } });
    try {
      const res = await spawnRemote(pair.hub, 'echo remote > remote.txt');
      expect(res.status).toBe(202);
      await waitFor(async () => (await pair.hub.api<PublicAgent>('GET', `/agents/${res.body.id}`)).body.state === 'completed', { timeoutMs: 30_000, what: 'the mirror to be completed' });
      // The mirror may read completed from an answer before the spoke's outbox has delivered (and settled) every
      // event: wait for the outbox to drain, then the hub's log holds each transition exactly once.
      await waitFor(async () => (await pair.spoke.federation.store.outbox.pending(pair.hub.identity.instanceId)).length === 0, { timeoutMs: 30_000, what: 'the spoke\'s outbox to drain' });
      const hubStates = (await pair.hub.store.events.after(0, 1000)).filter((e) => e.agentId === res.body.id).map((e) => e.data.state);
      expect(hubStates).toEqual(['queued', 'spawning', 'running', 'completed']);
    } finally {
      await pair.stop();
    }
  }, 120_000);
});
