import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FEDERATION_MIGRATIONS } from '../src/federation/index.js';
import { openPostgresStore, openSqliteStore, registeredMigrations, type SqlStore } from '../src/store/index.js';
import { createTestDatabase } from '../src/test-support/postgres.js';
import { makeAgent } from '../src/test-support/store-records.js';
import { startTestInstance } from '../src/test-support/instance.js';
import { makeTestRepo } from '../src/test-support/test-repo.js';
import type { BenchResult } from './types.js';

/**
 * The store on PostgreSQL against the embedded SQLite store, in the same run
 * (baseline: SQLite; ratio: PostgreSQL / SQLite). PostgreSQL is the local
 * server of MOSAIC_TEST_DATABASE_URL (see README "Running on PostgreSQL"),
 * in a database made for the run and dropped after.
 *
 * - lifecycle: per agent, what the server writes over its life — insert,
 *   spawning, running (pid), one progress update with its event, completed —
 *   one agent after another, then 10 at a time;
 * - events: appends, one after another;
 * - end to end: 10 agents through an instance (HTTP, worktree, process, git).
 */

const AGENTS = 300;
const EVENTS = 3000;
/** BENCH_STORE_ROUNDS: rounds per backend, the best of which is reported (default 3). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_STORE_ROUNDS ?? 3));
const migrations = [...registeredMigrations(), ...FEDERATION_MIGRATIONS];

async function lifecycle(store: SqlStore, prefix: string, i: number): Promise<void> {
  const { agent } = await store.agents.insert(makeAgent({ id: `${prefix}${i}`, idempotencyKey: `${prefix}k${i}` }));
  await store.agents.transition(agent.id, ['queued'], 'spawning');
  await store.agents.transition(agent.id, ['spawning'], 'running', { pid: 100 + i });
  await store.agents.updateWithEvent(agent.id, { progress: { text: 'half way' } as never }, 'agent.progress');
  await store.agents.transition(agent.id, ['running'], 'completed', { exitCode: 0 });
}

interface Timings { sequential: number; parallel: number; events: number }

async function measure(open: () => Promise<SqlStore>, round: number): Promise<Timings> {
  const store = await open();
  try {
    let t = performance.now();
    for (let i = 0; i < AGENTS; i += 1) await lifecycle(store, `s${round}-`, i);
    const sequential = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < AGENTS; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => lifecycle(store, `p${round}-`, i + j)));
    }
    const parallel = performance.now() - t;
    const agent = (await store.agents.get(`s${round}-0`))!;
    t = performance.now();
    for (let i = 0; i < EVENTS; i += 1) await store.events.append('agent.progress', agent.id, agent);
    return { sequential, parallel, events: performance.now() - t };
  } finally {
    await store.close();
  }
}

/** The best of ROUNDS (the least disturbed by the rest of the machine). */
function best(runs: Timings[]): Timings {
  return {
    sequential: Math.min(...runs.map((r) => r.sequential)),
    parallel: Math.min(...runs.map((r) => r.parallel)),
    events: Math.min(...runs.map((r) => r.events)),
  };
}

async function endToEnd(databaseUrl: string | undefined): Promise<number> {
  const repo = makeTestRepo();
  const t = await startTestInstance({ maxAgents: 10, pollMs: 20, ...(databaseUrl ? { databaseUrl } : {}) });
  try {
    await t.api('POST', '/repos', { name: 'bench', path: repo.path });
    const start = performance.now();
    await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const res = await t.api<{ id: string }>('POST', '/agents', {
        repo: 'bench', taskId: `b${i}`, prompt: 'bench', runtime: { kind: 'command', argv: ['sh', '-c', 'echo work > out.txt'] },
      });
      for (;;) {
        const agent = await t.api<{ state: string }>('GET', `/agents/${res.body.id}`);
        if (['completed', 'failed', 'killed'].includes(agent.body.state)) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    }));
    return performance.now() - start;
  } finally {
    await t.stop();
    repo.cleanup();
  }
}

export async function benchStore(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mosaic-bench-store-'));
  const pg = await createTestDatabase();
  try {
    const sqliteRuns: Timings[] = [];
    const pgRuns: Timings[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      sqliteRuns.push(await measure(async () => openSqliteStore(join(dir, `r${round}.db`), { migrations }), round));
      pgRuns.push(await measure(() => openPostgresStore(pg.url, { migrations }), round));
    }
    const lite = best(sqliteRuns);
    const post = best(pgRuns);
    // BENCH_STORE_E2E=0 leaves out the end-to-end row (it is dominated by processes and git, not the store).
    const e2e = process.env.BENCH_STORE_E2E !== '0';
    const e2eLite = e2e ? await endToEnd(undefined) : 0;
    let e2ePg = 0;
    if (e2e) {
      const pg2 = await createTestDatabase();
      try {
        e2ePg = await endToEnd(pg2.url);
      } finally {
        await pg2.drop();
      }
    }
    const row = (name: string, baselineMs: number, mosaicMs: number, notes: string): BenchResult => ({
      name, baselineMs: Math.round(baselineMs * 10) / 10, mosaicMs: Math.round(mosaicMs * 10) / 10, ratio: Math.round((mosaicMs / baselineMs) * 100) / 100, notes,
    });
    const perSec = (n: number, ms: number): string => `${Math.round((n * 1000) / ms)}/s`;
    return [
      row(`lifecycle: ${AGENTS} agents one at a time`, lite.sequential, post.sequential,
        `baseline SQLite ${perSec(AGENTS, lite.sequential)}, PostgreSQL ${perSec(AGENTS, post.sequential)} (5 writes each)`),
      row(`lifecycle: ${AGENTS} agents, 10 at a time`, lite.parallel, post.parallel,
        `baseline SQLite ${perSec(AGENTS, lite.parallel)}, PostgreSQL ${perSec(AGENTS, post.parallel)}`),
      row(`events: ${EVENTS} appends`, lite.events, post.events, `baseline SQLite ${perSec(EVENTS, lite.events)}, PostgreSQL ${perSec(EVENTS, post.events)}`),
      ...(e2e ? [row('end to end: 10 agents at once through an instance', e2eLite, e2ePg, 'baseline: the same instance on SQLite')] : []),
    ];
  } finally {
    await pg.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
