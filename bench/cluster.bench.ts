import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startTestCluster, type TestCluster, type TestNode } from '../src/test-support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../src/test-support/postgres.js';
import { startServerChild, type ServerChild } from '../src/test-support/server-child.js';
import { readSse } from '../src/test-support/sse.js';
import type { TestInstance } from '../src/test-support/instance.js';
import { makeTestRepo, type TestRepo } from '../src/test-support/test-repo.js';
import { median, row } from './helpers.js';
import type { BenchResult } from './types.js';

/**
 * A cluster (issue 21), nodes as `mosaic up` processes on one PostgreSQL, the
 * sandbox off, MOSAIC_MAX_AGENTS=4 per node, in one run with rounds
 * interleaved (BENCH_CLUSTER_ROUNDS, default 2; BENCH_CLUSTER_SPAWNS per
 * round, default 8):
 *  - a standalone instance on its own PostgreSQL database (the baseline);
 *  - the cluster with one node taking work (the two others drained);
 *  - the cluster with its three nodes taking work.
 * Each round spawns its agents at once through one node and waits for all to
 * complete: throughput is that wall time, spawn→running comes from the
 * records (createdAt → startedAt). During the 3-node rounds every node streams
 * GET /events: the fan-out lag of an event is when a node saw it minus when
 * the first node saw it (the node that wrote it streams it at once).
 */
const ROUNDS = Number(process.env.BENCH_CLUSTER_ROUNDS ?? 2);
const SPAWNS = Number(process.env.BENCH_CLUSTER_SPAWNS ?? 8);
const ENDED = ['completed', 'failed', 'killed'];

interface Api {
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}
interface AgentRow { id: string; state: string; createdAt: number; startedAt: number | null; node?: string | null }

const pct = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0;
};

/** Spawns `n` agents at once through `via`, waits for every one to end; the wall time and the records. */
async function burst(via: Api, n: number, tag: string): Promise<{ wallMs: number; agents: AgentRow[] }> {
  const start = performance.now();
  const spawned = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const res = await via.api<AgentRow>('POST', '/agents', { repo: 'app', taskId: `${tag}-${i}`, prompt: 'bench', runtime: { kind: 'command', argv: ['true'] } });
    if (res.status !== 202) throw new Error(`spawn answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.id;
  }));
  const agents: AgentRow[] = [];
  for (const id of spawned) {
    for (;;) {
      const agent = (await via.api<AgentRow>('GET', `/agents/${id}`)).body;
      if (ENDED.includes(agent.state)) {
        if (agent.state !== 'completed' || agent.startedAt === null) throw new Error(`agent ended ${agent.state}: ${JSON.stringify(agent)}`);
        agents.push(agent);
        break;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return { wallMs: performance.now() - start, agents };
}

async function setDraining(c: TestCluster, names: string[], draining: boolean): Promise<void> {
  for (const name of names) {
    const res = await c.nodes[0]!.api('POST', `/cluster/nodes/${name}/${draining ? 'drain' : 'undrain'}`);
    if (res.status !== 200) throw new Error(`${draining ? 'drain' : 'undrain'} ${name} answered ${res.status}`);
  }
}

/** Streams every node's events while `work` runs; each event's lag behind the first node that streamed it. */
async function fanOut(c: TestCluster, work: () => Promise<void>): Promise<number[]> {
  const from = Number((await c.sql<{ seq: string }>('SELECT COALESCE(max(seq), 0) AS seq FROM events'))[0]?.seq);
  const seen = c.nodes.map(() => new Map<string, number>());
  let done = false;
  const streams = c.nodes.map((node, i) => readSse(node as unknown as TestInstance, '/events', (events) => {
    const last = events[events.length - 1];
    if (last?.id !== undefined && !seen[i]!.has(last.id)) seen[i]!.set(last.id, performance.now());
    return done;
  }, { lastEventId: from, timeoutMs: 600_000 }).catch(() => undefined));
  await new Promise((r) => setTimeout(r, 300));
  await work();
  await new Promise((r) => setTimeout(r, 1500)); // the last events reach every stream
  done = true;
  // A stream ends at its next event: one more (a drain flag change writes none), so spawn a last agent.
  await burst(c.nodes[0]!, 1, 'fanout-end').catch(() => undefined);
  await Promise.all(streams);
  const lags: number[] = [];
  for (const id of seen[0]!.keys()) {
    const times = seen.map((m) => m.get(id)).filter((t): t is number => t !== undefined);
    if (times.length < seen.length) continue;
    const first = Math.min(...times);
    for (const t of times) if (t !== first) lags.push(t - first);
  }
  return lags;
}

export async function benchCluster(): Promise<BenchResult[]> {
  const loadBefore = loadavg()[0]!;
  let c: TestCluster | undefined;
  let solo: ServerChild | undefined;
  let soloDb: TestDatabase | undefined;
  let soloRepo: TestRepo | undefined;
  try {
    c = await startTestCluster(['n1', 'n2', 'n3'], { MOSAIC_MAX_AGENTS: '4' });
    soloDb = await createTestDatabase();
    soloRepo = makeTestRepo();
    solo = await startServerChild({ env: { MOSAIC_DATABASE_URL: soloDb.url, MOSAIC_SANDBOX: 'off', MOSAIC_DATABASE_POOL: '4', MOSAIC_MAX_AGENTS: '4' } });
    const added = await solo.api('POST', '/repos', { name: 'app', path: soloRepo.path });
    if (added.status !== 201) throw new Error(`repos add answered ${added.status}`);
    const n1 = c.nodes[0] as TestNode;
    // One warm-up burst each (first spawns pay module loading).
    await burst(solo, 4, 'warm');
    await burst(n1, 4, 'warm');

    const standalone = { wall: [] as number[], toRunning: [] as number[] };
    const one = { wall: [] as number[], toRunning: [] as number[] };
    const three = { wall: [] as number[], toRunning: [] as number[], byNode: new Map<string, number>() };
    const lags: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const s = await burst(solo, SPAWNS, `solo-${round}`);
      standalone.wall.push(s.wallMs);
      standalone.toRunning.push(...s.agents.map((a) => (a.startedAt as number) - a.createdAt));

      await setDraining(c, ['n2', 'n3'], true);
      const o = await burst(n1, SPAWNS, `one-${round}`);
      one.wall.push(o.wallMs);
      one.toRunning.push(...o.agents.map((a) => (a.startedAt as number) - a.createdAt));
      if (o.agents.some((a) => a.node !== 'n1')) throw new Error('a drained node took work');
      await setDraining(c, ['n2', 'n3'], false);

      const cluster = c;
      lags.push(...await fanOut(cluster, async () => {
        const t = await burst(cluster.nodes[round % 3]!, SPAWNS, `three-${round}`);
        three.wall.push(t.wallMs);
        three.toRunning.push(...t.agents.map((a) => (a.startedAt as number) - a.createdAt));
        for (const a of t.agents) three.byNode.set(String(a.node), (three.byNode.get(String(a.node)) ?? 0) + 1);
      }));
    }
    const load = `load ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`;
    const perSpawn = (wall: number[]) => median(wall) / SPAWNS;
    const overhead = median(one.toRunning) - median(standalone.toRunning);
    return [
      row(`cluster spawn→running p50: 1 node vs standalone (${SPAWNS} at once, ${ROUNDS} rounds)`, median(standalone.toRunning), median(one.toRunning),
        `placement overhead ${overhead.toFixed(0)} ms per spawn (p90 standalone ${pct(standalone.toRunning, 0.9).toFixed(0)}, 1 node ${pct(one.toRunning, 0.9).toFixed(0)}); ${load}`),
      row(`cluster throughput: ${SPAWNS} spawns to completed, 3 nodes vs 1 node`, median(one.wall), median(three.wall),
        `per spawn ${perSpawn(one.wall).toFixed(0)} → ${perSpawn(three.wall).toFixed(0)} ms; standalone ${median(standalone.wall).toFixed(0)} ms; 3 nodes ran ${JSON.stringify(Object.fromEntries(three.byNode))}; one 2-core machine`),
      row('cluster spawn→running p50: 3 nodes vs 1 node', median(one.toRunning), median(three.toRunning),
        `p90 1 node ${pct(one.toRunning, 0.9).toFixed(0)}, 3 nodes ${pct(three.toRunning, 0.9).toFixed(0)} ms`),
      row('event fan-out across nodes: p99 vs p50 lag (target p99 < 1000 ms)', Math.max(0.1, pct(lags, 0.5)), pct(lags, 0.99),
        `${lags.length} deliveries, max ${Math.max(0, ...lags).toFixed(0)} ms, p99 ${pct(lags, 0.99) < 1000 ? 'under' : 'OVER'} 1 s`),
    ];
  } finally {
    await solo?.stop().catch(() => undefined);
    await soloDb?.drop().catch(() => undefined);
    soloRepo?.cleanup();
    await c?.stop();
  }
}
