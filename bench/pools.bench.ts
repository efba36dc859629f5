import { startTestInstance, type TestInstance } from '../src/test-support/instance.js';
import type { TestRepo } from '../src/test-support/test-repo.js';
import { bigRepo, median, phaseMedians, poolReady, row, spawnAndWait, toRunning, type Timed } from './helpers.js';
import type { BenchResult } from './types.js';

/**
 * Warm pools (issue 10): on a generated repository of 5,000 files whose
 * setup takes at least 2 s, spawn → running from a warm pool against a cold
 * spawn, and twenty spawns at once on a pool of five against twenty cold
 * ones (the disk a worktree takes with `shareDirs` is share.bench.ts).
 * Times come from the agent records (createdAt → startedAt), so polling does
 * not blur them.
 */

const DEP_FILES = 2000;
/** An "install": 2 s of waiting, then a node_modules of DEP_FILES files (~8 MiB). */
const INSTALL = `sleep 2; mkdir -p node_modules; i=0; while [ $i -lt ${DEP_FILES / 100} ]; do mkdir -p node_modules/pkg$i; j=0; while [ $j -lt 100 ]; do head -c 4096 /dev/zero > node_modules/pkg$i/f$j.js; j=$((j+1)); done; i=$((i+1)); done`;
const ROUNDS = 3;

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

/**
 * One spawn → running, `rounds` times: cold (checkout + the 2 s setup)
 * against a warm pool of one. Medians, and the warm agents' phases (where
 * time above a rename and a process start goes).
 */
export async function warmVsCold(repo: TestRepo, rounds: number): Promise<BenchResult> {
  const cold = await withInstance(repo, 0, {}, async (t) => {
    const out: number[] = [];
    for (let i = 0; i < rounds; i++) out.push(toRunning(await spawnAndWait(t, `cold${i}`)));
    return out;
  });
  const warmAgents = await withInstance(repo, 1, {}, async (t) => {
    const out: Timed[] = [];
    for (let i = 0; i < rounds; i++) {
      await poolReady(t, 1);
      const agent = await spawnAndWait(t, `warm${i}`);
      if (!agent.pooled) throw new Error('warm spawn did not come from the pool');
      out.push(agent);
    }
    return out;
  });
  const warm = warmAgents.map(toRunning);
  const phases = phaseMedians(warmAgents.flatMap((a) => (a.timings ? [a.timings] : [])));
  return row('spawn → running, warm pool vs cold (5,000 files, 2 s setup)', median(cold), median(warm),
    `median of ${rounds}; baseline: cold spawn with checkout and setup; warm median ms per phase: ${phases}`, 3);
}

export async function benchPools(): Promise<BenchResult[]> {
  const repo = bigRepo();
  try {
    // 1. One spawn → running: cold (checkout + 2 s setup) against a warm pool of one.
    const single = await warmVsCold(repo, ROUNDS);

    // 2. Twenty at once: all cold against a pool of five (the other fifteen go cold).
    const burst = async (poolSize: number): Promise<{ ms: number; pooled: number }> => withInstance(repo, poolSize, {}, async (t) => {
      if (poolSize > 0) await poolReady(t, poolSize);
      const agents = await Promise.all(Array.from({ length: 20 }, (_, i) => spawnAndWait(t, `burst${i}`)));
      const first = Math.min(...agents.map((a) => a.createdAt));
      const last = Math.max(...agents.map((a) => a.createdAt + toRunning(a)));
      return { ms: last - first, pooled: agents.filter((a) => a.pooled).length };
    });
    const burstCold = await burst(0);
    const burstPool = await burst(5);

    return [
      single,
      row('20 spawns at once: pool of 5 vs all cold, to all running', burstCold.ms, burstPool.ms,
        `${burstPool.pooled} from the pool, ${20 - burstPool.pooled} cold`, 3),
    ];
  } finally {
    repo.cleanup();
  }
}
