import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { ConflictRadar, type RadarAgent } from '../src/git/index.js';
import { makeTestRepo, type TestRepo } from '../src/test-support/test-repo.js';
import type { BenchResult } from './types.js';

/**
 * Conflict radar with 20 agents in one repository, every one editing the same
 * file (a different line each), so all 190 pairs overlap and need a merge:
 * the worst case for the radar. Baseline: a full recompute (a cold radar).
 * Mosaic: the warm radar refreshed after one agent changed.
 */

const N = 20;
const LINES = Array.from({ length: 4 * N }, (_, i) => `line ${i}`);

function branches(repo: TestRepo, names: Array<[string, number, string]>): Record<string, string> {
  const base = repo.git(['rev-parse', 'main']).trim();
  let stream = '';
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  for (const [name, line, text] of names) {
    const lines = [...LINES];
    lines[line] = text;
    stream += `commit refs/heads/${name}\ncommitter B <b@localhost> 1000000000 +0000\n${data(name)}from ${base}\n`;
    stream += `M 100644 inline shared.txt\n${data(`${lines.join('\n')}\n`)}\n`;
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: repo.path, input: stream });
  return Object.fromEntries(names.map(([name]) => [name, repo.git(['rev-parse', `refs/heads/${name}`]).trim()]));
}

async function time(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

export async function benchRadar(): Promise<BenchResult[]> {
  const repo = makeTestRepo();
  try {
    repo.write('shared.txt', `${LINES.join('\n')}\n`);
    repo.commitAll('shared');
    const base = repo.git(['rev-parse', 'main']).trim();
    const made = branches(repo, Array.from({ length: N }, (_, i) => [`a${i}`, 4 * i, `agent ${i}`] as [string, number, string]));
    const agents: RadarAgent[] = Array.from({ length: N }, (_, i) => ({ id: `a${i}`, commit: made[`a${i}`] ?? '', base }));

    const warm = new ConflictRadar(repo.path);
    await warm.refresh(agents);
    // One agent changes (a new commit, same file, another line).
    const changed = branches(repo, [['a7b', 4 * 7 + 1, 'agent 7 again']]);
    const next = agents.map((a) => (a.id === 'a7' ? { ...a, commit: changed.a7b ?? '' } : a));

    const cold = new ConflictRadar(repo.path);
    const fullMs = await time(() => cold.refresh(next));
    const before = warm.merges;
    const incrementalMs = await time(() => warm.refresh(next));
    const incremental = warm.merges - before;
    return [{
      name: `radar refresh, ${N} agents, one changed`,
      baselineMs: fullMs,
      mosaicMs: incrementalMs,
      ratio: incrementalMs / fullMs,
      notes: `baseline: full recompute (${cold.merges} merges); mosaic: cached refresh (${incremental} merges)`,
    }];
  } finally {
    repo.cleanup();
  }
}
