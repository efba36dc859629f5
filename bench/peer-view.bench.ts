import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { preparePrivateGitDir } from '../src/git/index.js';
import type { BenchResult } from './types.js';

/**
 * What "peers see only their base" costs a peer's spawn (issue 16): making a
 * sandboxed agent's private git dir with its own pack of the objects its base
 * reaches (`baseOnly`, a peer's agent) against the shared view a local agent
 * gets (the repository's objects, read-only), alternating, on a clone of the
 * repository the benchmark runs in (BENCH_VIEW_REPO to use another).
 */

const ROUNDS = 6;

export async function benchPeerView(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mosaic-bench-view-'));
  const source = process.env.BENCH_VIEW_REPO ?? process.cwd();
  const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
  try {
    const repo = join(dir, 'repo');
    execFileSync('git', ['clone', '--quiet', '--no-local', source, repo]);
    git(repo, 'worktree', 'add', '--quiet', '-b', 'agent-bench-view', join(dir, 'repo_worktrees', 'agent-bench-view'));
    const worktree = join(dir, 'repo_worktrees', 'agent-bench-view');
    const objects = git(repo, 'rev-list', '--objects', 'HEAD').split('\n').length;
    const kinds = ['shared', 'first', 'cached'] as const;
    const total = { shared: 0, first: 0, cached: 0 };
    const warm = join(dir, 'cache-warm');
    await preparePrivateGitDir(worktree, join(dir, 'box-warm'), { baseOnly: { cacheDir: warm } });
    for (let i = 0; i < ROUNDS; i++) {
      for (const kind of i % 2 === 0 ? kinds : [...kinds].reverse()) {
        const box = join(dir, `box-${i}-${kind}`);
        const start = performance.now();
        // `first`: a fresh cache, what the first peer spawn on a new base pays; `cached`: later ones link its pack.
        await preparePrivateGitDir(worktree, box, kind === 'shared' ? {} : { baseOnly: { cacheDir: kind === 'first' ? join(dir, `cache-${i}`) : warm } });
        total[kind] += performance.now() - start;
        rmSync(box, { recursive: true, force: true });
      }
    }
    const row = (kind: 'first' | 'cached', what: string): BenchResult => ({
      name: `private git dir of a peer's agent (${what}) vs a local agent's (shared objects), ${ROUNDS} each`,
      baselineMs: Math.round(total.shared * 10) / 10, mosaicMs: Math.round(total[kind] * 10) / 10,
      ratio: Math.round((total[kind] / total.shared) * 100) / 100,
      notes: `${objects} objects reachable from the base; ${Math.round((total[kind] - total.shared) / ROUNDS)} ms more per peer spawn`,
    });
    return [row('first', 'first spawn on a base: its pack made'), row('cached', 'later spawns: the cached pack linked')];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
