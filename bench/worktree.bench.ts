import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { makeTestRepo, type TestRepo } from '../src/test-support/test-repo.js';
import { WorktreeManager } from '../src/git/index.js';
import type { BenchResult } from './types.js';

/**
 * Worktree operations through WorktreeManager against plain git doing the
 * same work, each pair in fresh repositories of the same shape, so the ratio
 * is Mosaic's overhead (validation, checks, locking, safer snapshots).
 */

const N = 20;
const FILES = 200;
const run = promisify(execFile);
const IDENTITY = ['-c', 'user.name=Bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false'];

function benchRepo(): TestRepo {
  const repo = makeTestRepo();
  for (let i = 0; i < FILES; i++) repo.write(`src/module-${i}.ts`, `export const value${i} = ${i};\n`.repeat(20));
  repo.commitAll('files');
  return repo;
}

function rawGit(cwd: string, args: string[]): Promise<unknown> {
  return run('git', [...IDENTITY, ...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
}

async function time(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

async function rawAddSequential(repo: TestRepo): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < N; i++) {
    const path = join(`${repo.path}_worktrees`, `wt-${i}`);
    await rawGit(repo.path, ['worktree', 'add', '-q', '-b', `wt-${i}`, path, 'main']);
    paths.push(path);
  }
  return paths;
}

function result(name: string, baselineMs: number, mosaicMs: number, notes: string): BenchResult {
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return { name, baselineMs: round(baselineMs), mosaicMs: round(mosaicMs), ratio: Math.round((mosaicMs / baselineMs) * 100) / 100, notes };
}

function dirty(paths: string[]): void {
  for (const path of paths) {
    writeFileSync(join(path, 'src', 'module-0.ts'), 'export const changed = true;\n');
    writeFileSync(join(path, 'untracked.txt'), 'new file\n');
  }
}

async function withRepos<T>(count: number, task: (repos: TestRepo[]) => Promise<T>): Promise<T> {
  const repos = Array.from({ length: count }, benchRepo);
  try {
    return await task(repos);
  } finally {
    for (const repo of repos) repo.cleanup();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : ((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/**
 * Runs a baseline/mosaic pair `rounds` times, alternating which goes first
 * so neither always gets the warmer cache, and keeps the medians.
 */
async function compare(rounds: number, baseline: (repo: TestRepo) => Promise<number>,
  mosaic: (repo: TestRepo) => Promise<number>): Promise<[number, number]> {
  const b: number[] = [];
  const m: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await withRepos(2, async ([x, y]) => {
      if (round % 2 === 0) {
        b.push(await baseline(x!));
        m.push(await mosaic(y!));
      } else {
        m.push(await mosaic(y!));
        b.push(await baseline(x!));
      }
    });
  }
  return [median(b), median(m)];
}

export interface WorktreeBenchOptions {
  /** Repetitions of each comparison; medians are reported. Default 3 (env BENCH_ROUNDS). */
  rounds?: number;
}

export async function benchWorktrees(opts: WorktreeBenchOptions = {}): Promise<BenchResult[]> {
  const rounds = Math.max(1, opts.rounds ?? (Number(process.env.BENCH_ROUNDS) || 3));
  const results: BenchResult[] = [];
  const manager = new WorktreeManager();
  const create = (repo: TestRepo, i: number): Promise<unknown> =>
    manager.create({ repoPath: repo.path, name: `wt-${i}`, branch: `wt-${i}`, baseBranch: 'main' });
  const rounding = `median of ${rounds} rounds`;

  // Warm the page cache and git's startup path so the first measurement is not penalized.
  await withRepos(1, async ([repo]) => rawGit(repo!.path, ['status']));

  {
    const [baseline, mosaic] = await compare(rounds,
      (repo) => time(() => rawAddSequential(repo)),
      (repo) => time(async () => {
        for (let i = 0; i < N; i++) await create(repo, i);
      }));
    results.push(result(`create ${N} worktrees, sequential`, baseline, mosaic,
      `git worktree add vs WorktreeManager.create; ${FILES}-file repo; ${rounding}`));
  }

  {
    const [baseline, mosaic] = await compare(rounds,
      (repo) => time(() => rawAddSequential(repo)),
      (repo) => time(() => Promise.all(Array.from({ length: N }, (_, i) => create(repo, i)))));
    results.push(result(`create ${N} worktrees, concurrent`, baseline, mosaic,
      `${N} sequential git worktree add vs ${N} concurrent create calls (serialized per repo, none fail); ${rounding}`));
  }

  {
    const [baseline, mosaic] = await compare(rounds,
      async (repo) => {
        const paths = await rawAddSequential(repo);
        dirty(paths);
        return time(async () => {
          for (const path of paths) {
            await rawGit(path, ['add', '-A']);
            await rawGit(path, ['commit', '-q', '--no-verify', '-m', 'snapshot']);
            await rawGit(repo.path, ['worktree', 'remove', '--force', path]);
          }
        });
      },
      async (repo) => {
        const paths = await rawAddSequential(repo);
        dirty(paths);
        return time(async () => {
          for (const path of paths) {
            await manager.snapshot(path, 'snapshot');
            await manager.remove(repo.path, path);
          }
        });
      });
    results.push(result(`snapshot + remove ${N} dirty worktrees`, baseline, mosaic,
      `git add -A && commit && worktree remove vs snapshot() + remove() (lock-proof plumbing, path checks); ${rounding}`));
  }

  return results;
}
