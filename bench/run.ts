import type { BenchResult } from './types.js';
import { benchAgents } from './agents.bench.js';
import { benchCluster } from './cluster.bench.js';
import { benchFinish } from './finish.bench.js';
import { benchFleet } from './fleet.bench.js';
import { benchInterop } from './interop.bench.js';
import { benchPeerView } from './peer-view.bench.js';
import { benchPools } from './pools.bench.js';
import { benchRadar } from './radar.bench.js';
import { benchRuntimes } from './runtimes.bench.js';
import { benchSandbox } from './sandbox.bench.js';
import { benchShare } from './share.bench.js';
import { benchSpawn } from './spawn.bench.js';
import { benchStore } from './store.bench.js';
import { benchWorktrees } from './worktree.bench.js';

/**
 * Runs every benchmark suite and prints one table (or JSON with --json).
 * Usage: npm run bench [-- --json] (or npx tsx bench/run.ts [--json]); BENCH_ONLY=agents runs one suite.
 */
const suites: Array<{ suite: string; run: () => Promise<BenchResult[]> }> = [
  { suite: 'worktrees', run: benchWorktrees },
  { suite: 'agents', run: benchAgents },
  { suite: 'finish', run: benchFinish },
  { suite: 'interop', run: benchInterop },
  { suite: 'radar', run: benchRadar },
  { suite: 'sandbox', run: benchSandbox },
  { suite: 'peer-view', run: benchPeerView },
  { suite: 'pools', run: benchPools },
  { suite: 'spawn', run: benchSpawn },
  { suite: 'share', run: benchShare },
  { suite: 'store', run: benchStore },
  { suite: 'fleet', run: benchFleet },
  { suite: 'runtimes', run: benchRuntimes },
  { suite: 'cluster', run: benchCluster },
];

function table(rows: Array<BenchResult & { suite: string }>): string {
  const header = ['suite', 'benchmark', 'baseline ms', 'mosaic ms', 'ratio', 'notes'];
  const cells = rows.map((r) => [r.suite, r.name, r.baselineMs.toFixed(1), r.mosaicMs.toFixed(1), `${r.ratio.toFixed(2)}x`, r.notes ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const numeric = new Set([2, 3, 4]);
  const line = (c: string[]): string =>
    c.map((v, i) => (numeric.has(i) ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const rows: Array<BenchResult & { suite: string }> = [];
  const only = process.env.BENCH_ONLY;
  for (const { suite, run } of suites.filter((s) => !only || s.suite === only)) {
    for (const result of await run()) rows.push({ suite, ...result });
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
  else console.log(table(rows));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
