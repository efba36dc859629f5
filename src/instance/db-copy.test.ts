import { afterAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { runCli } from '../test-support/cli.js';
import { FAST_FEDERATION, freePort, spawnRemote, startPair, type Pair } from '../test-support/federation.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { waitFor } from '../test-support/wait.js';

interface CopyReport { tables: { table: string; rows: number }[]; lastEventSeq: number; to: string }

/** What a listed agent looks like apart from what says how recently its peer was heard from. */
const settled = (agents: PublicAgent[]) => agents.map(({ peerContact: _c, stale: _s, ...rest }) => rest);

/**
 * Issue 20, test 5: `mosaic db copy` of a SQLite home with agents, events,
 * an A2A token and a federation connection into PostgreSQL; the instance
 * started on the copy shows the same agents and events (same seqs) and
 * talks to the same peer, a real second instance. Refused: a target with
 * Mosaic tables, a home a server runs on.
 */
describe('mosaic db copy', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('copies a SQLite home into PostgreSQL; the instance on the copy has the same history and peer', async () => {
    const port = await freePort();
    const pair: Pair = await startPair({ hubConfig: { port } });
    cleanups.push(() => pair.stop());
    const hub = pair.hub;
    const hubRepo = await makeTempRepo();
    cleanups.push(async () => hubRepo.cleanup());
    expect((await hub.api('POST', '/repos', { name: 'app', path: hubRepo.path })).status).toBe(201);

    const local = await spawnCommand(hub, 'echo local > local.txt');
    expect((await waitForState(hub, local.id)).state).toBe('completed');
    const remote = await spawnRemote(hub, 'echo remote > remote.txt');
    expect(remote.status).toBe(202);
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${remote.body.id}`)).body.state === 'completed',
      { timeoutMs: 30_000, what: 'the remote agent to be completed on the hub' });
    expect((await hub.api('POST', '/a2a/tokens', { grants: { repos: ['app'], runtimes: ['command'], maxActiveAgents: 1 } })).status).toBe(201);

    const agentsBefore = (await hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all')).body.agents;
    const eventsBefore = await hub.store.events.after(0, 10_000);
    const connectionsBefore = (await hub.api<{ connections: { id: string; instanceId: string; state: string }[] }>('GET', '/federation/connections')).body.connections;
    const tokensBefore = (await hub.api<{ tokens: unknown[] }>('GET', '/a2a/tokens')).body.tokens;
    expect(agentsBefore.map((a) => a.id).sort()).toEqual([local.id, remote.body.id].sort());
    expect(connectionsBefore).toHaveLength(1);
    const home = hub.home;
    await hub.stop(true);

    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const env = { MOSAIC_HOME: home };
    const copied = await runCli(['db', 'copy', '--from', home, '--to', db.url, '--json'], env);
    expect(copied.code, copied.stderr).toBe(0);
    const report = JSON.parse(copied.stdout) as CopyReport;
    const rows = Object.fromEntries(report.tables.map((t) => [t.table, t.rows]));
    // The remote agent is the hub's mirror of it (federation_mirror), its own agents are in agents.
    expect(rows).toMatchObject({ agents: 1, federation_mirror: 1, events: eventsBefore.length, repos: 1, federation_connections: 1, a2a_tokens: 1 });
    expect(report.lastEventSeq).toBe(eventsBefore.at(-1)!.seq);
    expect(report.to).not.toContain(':mosaic_test@');

    // Copying again: the target now holds Mosaic tables.
    const again = await runCli(['db', 'copy', '--from', home, '--to', db.url], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^mosaic: database_not_empty: the database PostgreSQL 127\.0\.0\.1:\d+\/mosaic_test_\w+ already holds Mosaic tables/);

    const copy: TestInstance = await startTestInstance({ name: 'hub', ...FAST_FEDERATION, port, databaseUrl: db.url }, home);
    cleanups.push(() => copy.stop());
    expect(copy.store.describe()).toMatch(/^PostgreSQL /);
    expect(copy.identity.instanceId).toBe(hub.identity.instanceId);
    const agentsAfter = (await copy.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all')).body.agents;
    expect(settled(agentsAfter)).toEqual(settled(agentsBefore));
    expect(await copy.store.events.after(0, 10_000)).toEqual(eventsBefore);
    expect((await copy.api<{ tokens: unknown[] }>('GET', '/a2a/tokens')).body.tokens).toEqual(tokensBefore);
    const connectionsAfter = (await copy.api<{ connections: { id: string; instanceId: string; state: string }[] }>('GET', '/federation/connections')).body.connections;
    expect(connectionsAfter.map(({ id, instanceId, state }) => ({ id, instanceId, state })))
      .toEqual(connectionsBefore.map(({ id, instanceId, state }) => ({ id, instanceId, state })));

    // A server runs on the home now: copying from it is refused.
    const busy = await runCli(['db', 'copy', '--from', home, '--to', db.url], env);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('mosaic: home_in_use: another Mosaic server is running on');

    // The same peer, both ways: a spawn there, its events back here, numbered after the copied ones.
    const next = await spawnRemote(copy, 'echo again > again.txt', { taskId: 'T2' });
    expect(next.status, JSON.stringify(next.body)).toBe(202);
    await waitFor(async () => (await copy.api<PublicAgent>('GET', `/agents/${next.body.id}`)).body.state === 'completed',
      { timeoutMs: 30_000, what: 'the new remote agent to be completed on the copy' });
    const newEvents = (await copy.store.events.after(report.lastEventSeq, 1000));
    expect(newEvents.filter((e) => e.agentId === next.body.id).map((e) => e.data.state)).toEqual(['queued', 'spawning', 'running', 'completed']);
    expect(newEvents[0]!.seq).toBe(report.lastEventSeq + 1);
  }, 180_000);

  it('refuses a home without a store, and a target that is not a postgres URL', async () => {
    const db: TestDatabase = await createTestDatabase();
    cleanups.push(() => db.drop());
    const missing = await runCli(['db', 'copy', '--from', '/nonexistent/home', '--to', db.url], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('mosaic: store_not_found: no SQLite store at /nonexistent/home/mosaic.db');
    const usage = await runCli(['db', 'copy', '--from', '/tmp', '--to', 'mysql://x/y'], {});
    expect(usage.code).toBe(2);
  }, 60_000);
});
