import { startTestInstance, type TestInstance } from '../src/test-support/instance.js';
import { makeTestRepo, type TestRepo } from '../src/test-support/test-repo.js';
import type { BenchResult } from './types.js';

/**
 * Warm pools (issue 10): on a generated repository of 5,000 files whose
 * setup takes at least 2 s, spawn → running from a warm pool against a cold
 * spawn, and twenty spawns at once on a pool of five against twenty cold
 * ones (the disk a worktree takes with `shareDirs` is share.bench.ts).
 * Times come from the agent records (createdAt → startedAt), so polling does
 * not blur them.
 */

const FILES = 5000;
const DEP_FILES = 2000;
/** An "install": 2 s of waiting, then a node_modules of DEP_FILES files (~8 MiB). */
const INSTALL = `sleep 2; mkdir -p node_modules; i=0; while [ $i -lt ${DEP_FILES / 100} ]; do mkdir -p node_modules/pkg$i; j=0; while [ $j -lt 100 ]; do head -c 4096 /dev/zero > node_modules/pkg$i/f$j.js; j=$((j+1)); done; i=$((i+1)); done`;
const ROUNDS = 3;

function bigRepo(): TestRepo {
  const repo = makeTestRepo();
  for (let i = 0; i < FILES; i++) repo.write(`src/d${i % 50}/m${i}.ts`, `export const v${i} = ${i};\n`);
  repo.write('package-lock.json', '{"lockfileVersion":3}\n');
  repo.commitAll('5000 files');
  return repo;
}

interface Timed { createdAt: number; startedAt: number | null; state: string; pooled?: boolean }

async function spawnAndWait(t: TestInstance, taskId: string): Promise<Timed> {
  const res = await t.api<{ id: string }>('POST', '/agents', {
    repo: 'bench', taskId, prompt: 'bench', runtime: { kind: 'command', argv: ['sh', '-c', 'true'] },
  });
  if (res.status !== 202) throw new Error(`spawn answered ${res.status}: ${JSON.stringify(res.body)}`);
  for (;;) {
    const agent = (await t.api<Timed>('GET', `/agents/${res.body.id}`)).body;
    if (['completed', 'failed', 'killed'].includes(agent.state)) return agent;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function poolReady(t: TestInstance, n: number): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    const repo = (await t.api<{ pool: { ready: number; preparing: number } }>('GET', '/repos/bench')).body;
    if (repo.pool.ready >= n && repo.pool.preparing === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pool never filled');
}

function latency(agent: Timed): number {
  if (agent.state !== 'completed' || agent.startedAt === null) throw new Error(`agent ended ${agent.state}`);
  return agent.startedAt - agent.createdAt;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function withInstance<T>(repo: TestRepo, poolSize: number, extra: Record<string, unknown>, task: (t: TestInstance) => Promise<T>): Promise<T> {
  const t = await startTestInstance({ maxAgents: 25, pollMs: 20 });
  try {
    const res = await t.api('POST', '/repos', { name: 'bench', path: repo.path, setup: ['sh', '-c', INSTALL], poolSize, ...extra });
    if (res.status !== 201) throw new Error(`register answered ${res.status}`);
    return await task(t);
  } finally {
    await t.stop();
  }
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
const row = (name: string, baselineMs: number, mosaicMs: number, notes: string): BenchResult =>
  ({ name, baselineMs: round(baselineMs), mosaicMs: round(mosaicMs), ratio: Math.round((mosaicMs / baselineMs) * 1000) / 1000, notes });

export async function benchPools(): Promise<BenchResult[]> {
  const repo = bigRepo();
  try {
    // 1. One spawn → running: cold (checkout + 2 s setup) against a warm pool of one.
    const cold = await withInstance(repo, 0, {}, async (t) => {
      const out: number[] = [];
      for (let i = 0; i < ROUNDS; i++) out.push(latency(await spawnAndWait(t, `cold${i}`)));
      return out;
    });
    const warm = await withInstance(repo, 1, {}, async (t) => {
      const out: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        await poolReady(t, 1);
        const agent = await spawnAndWait(t, `warm${i}`);
        if (!agent.pooled) throw new Error('warm spawn did not come from the pool');
        out.push(latency(agent));
      }
      return out;
    });

    // 2. Twenty at once: all cold against a pool of five (the other fifteen go cold).
    const burst = async (poolSize: number): Promise<{ ms: number; pooled: number }> => withInstance(repo, poolSize, {}, async (t) => {
      if (poolSize > 0) await poolReady(t, poolSize);
      const agents = await Promise.all(Array.from({ length: 20 }, (_, i) => spawnAndWait(t, `burst${i}`)));
      const first = Math.min(...agents.map((a) => a.createdAt));
      const last = Math.max(...agents.map((a) => { latency(a); return a.startedAt!; }));
      return { ms: last - first, pooled: agents.filter((a) => a.pooled).length };
    });
    const burstCold = await burst(0);
    const burstPool = await burst(5);

    return [
      row('spawn → running, warm pool vs cold (5,000 files, 2 s setup)', median(cold), median(warm),
        `median of ${ROUNDS}; baseline: cold spawn with checkout and setup`),
      row('20 spawns at once: pool of 5 vs all cold, to all running', burstCold.ms, burstPool.ms,
        `${burstPool.pooled} from the pool, ${20 - burstPool.pooled} cold`),
    ];
  } finally {
    repo.cleanup();
  }
}
