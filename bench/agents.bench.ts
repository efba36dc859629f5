import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { startTestInstance } from '../src/test-support/instance.js';
import { makeTestRepo } from '../src/test-support/test-repo.js';
import { TIMING_PHASES, type AgentTimings } from '../src/core/agent-model.js';
import type { BenchResult } from './types.js';

/** Median ms of each phase over the agents' recorded timings (issue 24): where the time went. */
function phaseMedians(all: AgentTimings[]): string {
  const parts: string[] = [];
  for (const phase of TIMING_PHASES) {
    const values = all.map((t) => t[phase]).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
    if (values.length > 0) parts.push(`${phase} ${values[Math.floor(values.length / 2)]}`);
  }
  return parts.join(', ');
}

/**
 * The whole agent lifecycle through Mosaic (HTTP spawn → worktree → detached
 * supervisor → exit → snapshot → worktree removal → completed) against doing
 * the same by hand with git and a child process, in the same run.
 */

const N = 10;
const run = promisify(execFile);
const IDENTITY = ['-c', 'user.name=Bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false'];
const SCRIPT = 'echo work > out.txt';

function sh(cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', SCRIPT], { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

/** By hand: add a worktree, run the command, commit what it left, remove the worktree. */
async function byHand(repoPath: string, i: number): Promise<void> {
  const path = join(`${repoPath}_worktrees`, `hand-${i}`);
  await run('git', ['worktree', 'add', '-q', '-b', `hand-${i}`, path, 'main'], { cwd: repoPath });
  await sh(path);
  await run('git', ['add', '-A'], { cwd: path });
  await run('git', [...IDENTITY, 'commit', '-q', '--no-verify', '-m', 'snapshot'], { cwd: path });
  await run('git', ['worktree', 'remove', '--force', path], { cwd: repoPath });
}

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
    for (let i = 0; i < N; i++) await byHand(handRepo.path, i);
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
