import { performance } from 'node:perf_hooks';
import { startTestInstance } from '../src/test-support/instance.js';
import { makeTestRepo } from '../src/test-support/test-repo.js';
import type { AgentTimings } from '../src/core/agent-model.js';
import { byHand, phaseMedians } from './helpers.js';
import type { BenchResult } from './types.js';

/**
 * The whole agent lifecycle through Mosaic (HTTP spawn → worktree → detached
 * supervisor → exit → snapshot → worktree removal → completed) against doing
 * the same by hand with git and a child process, in the same run.
 */

const N = 10;
const SCRIPT = 'echo work > out.txt';

async function throughMosaic(parallel: boolean): Promise<{ ms: number; failed: number; phases: string }> {
  const repo = makeTestRepo();
  const t = await startTestInstance({ maxAgents: parallel ? N : 1, pollMs: 20 });
  try {
    await t.api('POST', '/repos', { name: 'bench', path: repo.path });
    const timings: AgentTimings[] = [];
    const start = performance.now();
    const spawnOne = async (i: number) => {
      const res = await t.api<{ id: string }>('POST', '/agents', {
        repo: 'bench', taskId: `b${i}`, prompt: 'bench', runtime: { kind: 'command', argv: ['sh', '-c', SCRIPT] },
      });
      for (;;) {
        const agent = await t.api<{ state: string; timings: AgentTimings | null }>('GET', `/agents/${res.body.id}`);
        if (['completed', 'failed', 'killed'].includes(agent.body.state)) {
          if (agent.body.timings) timings.push(agent.body.timings);
          return agent.body.state;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const states = parallel
      ? await Promise.all(Array.from({ length: N }, (_, i) => spawnOne(i)))
      : await (async () => { const out: string[] = []; for (let i = 0; i < N; i++) out.push(await spawnOne(i)); return out; })();
    return { ms: performance.now() - start, failed: states.filter((s) => s !== 'completed').length, phases: phaseMedians(timings) };
  } finally {
    await t.stop();
    repo.cleanup();
  }
}

export async function benchAgents(): Promise<BenchResult[]> {
  const handRepo = makeTestRepo();
  let handMs: number;
  try {
    const start = performance.now();
    for (let i = 0; i < N; i++) await byHand(handRepo.path, `hand-${i}`, SCRIPT);
    handMs = performance.now() - start;
  } finally {
    handRepo.cleanup();
  }
  const sequential = await throughMosaic(false);
  const parallel = await throughMosaic(true);
  const row = (name: string, mosaicMs: number, notes: string): BenchResult => ({
    name, baselineMs: Math.round(handMs * 10) / 10, mosaicMs: Math.round(mosaicMs * 10) / 10, ratio: Math.round((mosaicMs / handMs) * 100) / 100, notes,
  });
  return [
    row(`${N} agents one at a time, end to end`, sequential.ms, `baseline: worktree add + sh + commit + remove by hand; ${sequential.failed} failed; median ms per phase: ${sequential.phases}`),
    row(`${N} agents at once, end to end`, parallel.ms, `same baseline (sequential by hand); ${parallel.failed} failed; median ms per phase: ${parallel.phases}`),
  ];
}
