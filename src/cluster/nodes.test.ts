import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInstance } from '../instance/index.js';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';
import { readSse } from '../test-support/sse.js';
import type { TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';
import type { NodeView } from './nodes.js';

/**
 * Issue 21, tests 6 and 5, with nodes as separate `mosaic up` processes on
 * one real PostgreSQL database: two nodes starting at once on an empty
 * database make one schema and one identity, share admin tokens and list each
 * other; a draining node takes nothing new, finishes what it runs, and shows
 * `draining` with 0 running; a spawn pinned to it is 409 node_draining.
 * (Test 4, an agent on another node: remote-agent.test.ts.)
 */
describe('cluster nodes (real PostgreSQL, nodes as processes)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    // Both start at once on the empty database: migrations, pg-boss's schema and the identity race.
    c = await startTestCluster(['a', 'b']);
  }, 120_000);
  afterAll(async () => { await c?.stop(); }, 60_000);

  it('two nodes starting at once on an empty database: one migration run, one identity, every token works on every node', async () => {
    const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const versions = await c.sql<{ version: number; n: string }>('SELECT version, count(*) AS n FROM schema_migrations GROUP BY version');
    expect(versions.length).toBeGreaterThan(5);
    expect(versions.every((v) => Number(v.n) === 1)).toBe(true);
    expect(await c.sql('SELECT id FROM cluster_identity')).toHaveLength(1);
    const ids = await Promise.all([a, b].map(async (n) => ((await (await fetch(`${n.url}/api/v1/federation/instance`)).json()) as { instanceId: string }).instanceId));
    expect(ids[0]).toBe(ids[1]);
    // Admin tokens: each node minted its own (in its home), stored hashed, and each works on the other node.
    expect(a.adminToken).not.toBe(b.adminToken);
    const hashes = await c.sql<{ token_hash: string }>('SELECT token_hash FROM cluster_admin_tokens');
    expect(hashes).toHaveLength(2);
    expect(hashes.map((h) => h.token_hash)).not.toContain(a.adminToken);
    const crossed = await fetch(`${b.url}/api/v1/cluster`, { headers: { authorization: `Bearer ${a.adminToken}` } });
    expect(crossed.status).toBe(200);
    expect((await fetch(`${b.url}/api/v1/cluster`, { headers: { authorization: 'Bearer not-a-token' } })).status).toBe(401);

    const { nodes } = (await crossed.json()) as { nodes: NodeView[] };
    expect(nodes.map((n) => [n.name, n.state, n.capacity, n.url])).toEqual([['a', 'up', 2, a.url], ['b', 'up', 2, b.url]]);
    for (const n of nodes) {
      expect(typeof n.version).toBe('string');
      expect(Math.abs(Date.now() - n.heartbeatAt)).toBeLessThan(15_000);
    }
  });

  it('refuses a standalone instance on a cluster\'s database', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mosaic-home-'));
    try {
      await expect(startInstance({ env: {}, config: { home, port: 0, host: '127.0.0.1', logLevel: 'silent', databaseUrl: c.db.url } }))
        .rejects.toMatchObject({ status: 409, code: 'database_in_use' });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('drains a node: it takes nothing new, finishes what it runs, then shows draining with 0 running', async () => {
    const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const gate = join(c.repo.dir, 'drain-gate');
    const onB = await c.spawn(a, `while [ ! -f ${gate} ]; do sleep 0.05; done`, { node: 'b' });
    expect(onB.node).toBe('b');
    await c.waitState(onB.id, ['running']);
    const drained = await a.api<NodeView>('POST', '/cluster/nodes/b/drain');
    expect(drained.status).toBe(200);
    expect(drained.body.state).toBe('draining');
    const pinned = await a.api<{ error: { code: string } }>('POST', '/agents', { taskId: 'pin', repo: 'app', prompt: 'p', runtime: { kind: 'command', argv: ['true'] }, node: 'b' });
    expect(pinned.status).toBe(409);
    expect(pinned.body.error.code).toBe('node_draining');
    expect((await a.api('POST', '/cluster/nodes/zz/drain')).status).toBe(404);

    // New work goes to a only, b's agent keeps running.
    const spawned = await Promise.all([1, 2, 3].map(() => c.spawn(b, 'echo hi')));
    for (const agent of spawned) expect((await c.waitState(agent.id, ['completed'])).node).toBe('a');
    expect((await c.agent(onB.id)).state).toBe('running');
    await import('node:fs').then((fs) => fs.writeFileSync(gate, ''));
    expect((await c.waitState(onB.id, ['completed'])).node).toBe('b');
    const view = await waitFor(async () => {
      const { nodes } = (await a.api<{ nodes: NodeView[] }>('GET', '/cluster')).body;
      const node = nodes.find((n) => n.name === 'b');
      return node?.running === 0 ? node : undefined;
    }, { timeoutMs: 20_000, what: 'b to report 0 running' });
    expect(view.state).toBe('draining');
    // Undrained, it takes work again.
    expect((await a.api<NodeView>('POST', '/cluster/nodes/b/undrain')).body.state).toBe('up');
    const again = await c.spawn(a, 'echo again', { node: 'b' });
    expect((await c.waitState(again.id, ['completed'])).node).toBe('b');
  }, 120_000);

  it('fans events out: GET /events on one node streams another node\'s events within 1 s, in order', async () => {
    const [a, b] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    const from = Number((await c.sql<{ seq: string }>('SELECT COALESCE(max(seq), 0) AS seq FROM events'))[0]?.seq);
    const arrivals = { a: new Map<string, number>(), b: new Map<string, number>() };
    const stream = (node: typeof a, seen: Map<string, number>, agentId: () => string | undefined) =>
      readSse(node as unknown as TestInstance, '/events', (events) => {
        const last = events[events.length - 1];
        if (last?.id !== undefined && !seen.has(last.id)) seen.set(last.id, Date.now());
        const id = agentId();
        return id !== undefined && events.some((e) => e.event === 'agent.state' && (JSON.parse(e.data) as { id: string; state: string }).id === id
          && ['completed', 'failed'].includes((JSON.parse(e.data) as { state: string }).state));
      }, { lastEventId: from, timeoutMs: 60_000 });
    let spawnedId: string | undefined;
    const onA = stream(a, arrivals.a, () => spawnedId);
    const onB = stream(b, arrivals.b, () => spawnedId);
    await new Promise((r) => setTimeout(r, 500));
    spawnedId = (await c.spawn(a, 'echo fan-out', { node: 'a' })).id;
    const [sa, sb] = await Promise.all([onA, onB]);
    const states = (events: typeof sb.events) => events.filter((e) => e.event === 'agent.state')
      .map((e) => JSON.parse(e.data) as { id: string; state: string }).filter((x) => x.id === spawnedId).map((x) => x.state);
    expect(states(sb.events)).toEqual(['queued', 'spawning', 'running', 'completed']);
    expect(states(sb.events)).toEqual(states(sa.events));
    // The node the agent runs on writes (and so streams) each event first; the other sees it within 1 s.
    const lags = [...arrivals.b.entries()].map(([seq, at]) => at - (arrivals.a.get(seq) ?? at));
    expect(lags.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...lags)).toBeLessThan(1000);
    console.info(`fan-out: ${lags.length} events, lag on the other node max ${Math.max(...lags)} ms, median ${lags.sort((x, y) => x - y)[Math.floor(lags.length / 2)]} ms`);
  }, 90_000);
});
