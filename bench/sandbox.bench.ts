import { performance } from 'node:perf_hooks';
import { startTestInstance } from '../src/test-support/instance.js';
import { makeTestRepo } from '../src/test-support/test-repo.js';
import type { BenchResult } from './types.js';

/**
 * What the sandbox costs (issue 6): spawn → running, and the whole lifecycle
 * (spawn → completed, including bringing sandboxed commits home), with the
 * sandbox (bubblewrap) against the same instance setup with MOSAIC_SANDBOX=off,
 * measured in the same run, agents one at a time. Target: at most 1.1x.
 */

const N = 8;

async function measure(sandbox: 'auto' | 'off'): Promise<{ toRunning: number; toEnd: number; sandboxed: number }> {
  const repo = makeTestRepo();
  const t = await startTestInstance({ sandbox, pollMs: 20 });
  let toRunning = 0;
  let toEnd = 0;
  let sandboxed = 0;
  try {
    await t.api('POST', '/repos', { name: 'bench', path: repo.path });
    for (let i = 0; i < N; i++) {
      const start = performance.now();
      const res = await t.api<{ id: string }>('POST', '/agents', {
        repo: 'bench', taskId: `s${i}`, prompt: 'bench',
        runtime: { kind: 'command', argv: ['sh', '-c', 'while [ ! -f go ]; do sleep 0.01; done; echo work > out.txt && git add out.txt && git commit -qm work'] },
      });
      let running = false;
      for (;;) {
        const agent = await t.api<{ state: string; worktreePath: string; sandbox: string | null }>('GET', `/agents/${res.body.id}`);
        if (!running && agent.body.state === 'running') {
          running = true;
          toRunning += performance.now() - start;
          if (agent.body.sandbox) sandboxed += 1;
          const { writeFileSync } = await import('node:fs');
          writeFileSync(`${agent.body.worktreePath}/go`, '');
        }
        if (['completed', 'failed', 'killed'].includes(agent.body.state)) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      toEnd += performance.now() - start;
    }
  } finally {
    await t.stop();
    repo.cleanup();
  }
  return { toRunning, toEnd, sandboxed };
}

export async function benchSandbox(): Promise<BenchResult[]> {
  // Alternate the order so a warming machine does not favour one side.
  const off1 = await measure('off');
  const on1 = await measure('auto');
  const on2 = await measure('auto');
  const off2 = await measure('off');
  const off = { toRunning: off1.toRunning + off2.toRunning, toEnd: off1.toEnd + off2.toEnd };
  const on = { toRunning: on1.toRunning + on2.toRunning, toEnd: on1.toEnd + on2.toEnd, sandboxed: on1.sandboxed + on2.sandboxed };
  const row = (name: string, base: number, mosaic: number, notes: string): BenchResult => ({
    name, baselineMs: Math.round(base * 10) / 10, mosaicMs: Math.round(mosaic * 10) / 10, ratio: Math.round((mosaic / base) * 100) / 100, notes,
  });
  const note = `baseline MOSAIC_SANDBOX=off; ${on.sandboxed}/${2 * N} ran in bubblewrap`;
  return [
    row(`${2 * N} agents spawn → running, sandboxed`, off.toRunning, on.toRunning, note),
    row(`${2 * N} agents spawn → completed (commit imported), sandboxed`, off.toEnd, on.toEnd, note),
  ];
}
