import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { importAgentCommits } from '../src/agents/sandbox/agent-import.js';
import { removeTree, removeTreeInBackground, settleBackgroundRemovals } from '../src/agents/sandbox/hostile-fs.js';
import { preparePrivateGitDir } from '../src/git/private-gitdir.js';
import { WorktreeManager } from '../src/git/worktrees.js';
import { makeTestRepo } from '../src/test-support/test-repo.js';
import type { BenchResult } from './types.js';

/**
 * An agent's finish (issue 24), phase by phase, on a generated repository
 * of 5,000 files, against git doing the same by hand in the same round
 * (interleaved): `import` of the one commit the agent made in its private
 * git dir against `git fetch` of it from there; `snapshot` of one new file
 * against `git add -A && git commit`; `remove` against `git worktree remove
 * --force`. Mosaic's side runs the functions the finisher calls (no server),
 * so the figures are the git work and not a loaded server's scheduling.
 */

const FILES = Number(process.env.BENCH_FINISH_FILES ?? 5000);
const ROUNDS = Number(process.env.BENCH_FINISH_ROUNDS ?? 5);
const run = promisify(execFile);
const IDENTITY = ['-c', 'user.name=Bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false'];

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

export async function benchFinish(): Promise<BenchResult[]> {
  const repo = makeTestRepo();
  for (let i = 0; i < FILES; i++) repo.write(`src/d${i % 50}/m${i}.ts`, `export const v${i} = ${i};\n`);
  repo.commitAll(`${FILES} files`);
  const git = new WorktreeManager({ discard: (path) => removeTreeInBackground(path) });
  const times = { import: [] as number[], snapshot: [] as number[], remove: [] as number[], fetch: [] as number[], commit: [] as number[], wtRemove: [] as number[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const who of ['mosaic', 'hand'] as const) {
        const name = `${who}-${round}`;
        const wt = await git.create({ repoPath: repo.path, name, branch: name, baseBranch: 'main' });
        const box = join(repo.dir, `box-${name}`);
        mkdirSync(box);
        const { gitDir } = await preparePrivateGitDir(wt.path, box);
        // The agent: one commit in its private git dir, and one file left uncommitted.
        const env = { ...process.env, GIT_DIR: gitDir, GIT_WORK_TREE: wt.path };
        writeFileSync(join(wt.path, 'agent.txt'), `${name}\n`);
        await run('git', ['add', 'agent.txt'], { cwd: wt.path, env });
        await run('git', [...IDENTITY, 'commit', '-q', '--no-verify', '-m', 'agent'], { cwd: wt.path, env });
        writeFileSync(join(wt.path, 'out.txt'), 'work\n');
        if (who === 'mosaic') {
          let t = performance.now();
          await importAgentCommits(box, box, repo.path, wt.branch);
          times.import.push(performance.now() - t);
          t = performance.now();
          await git.snapshot(wt.path, 'snapshot');
          times.snapshot.push(performance.now() - t);
          t = performance.now();
          await git.remove(repo.path, wt.path);
          times.remove.push(performance.now() - t);
        } else {
          let t = performance.now();
          await run('git', ['fetch', '-q', '--no-tags', '--update-head-ok', gitDir, `+HEAD:refs/heads/${name}`], { cwd: repo.path });
          times.fetch.push(performance.now() - t);
          t = performance.now();
          await run('git', ['add', '-A'], { cwd: wt.path });
          await run('git', [...IDENTITY, 'commit', '-q', '--no-verify', '-m', 'snapshot'], { cwd: wt.path });
          times.commit.push(performance.now() - t);
          t = performance.now();
          await run('git', ['worktree', 'remove', '--force', wt.path], { cwd: repo.path });
          times.wtRemove.push(performance.now() - t);
        }
        removeTree(box);
      }
    }
    await settleBackgroundRemovals();
  } finally {
    repo.cleanup();
  }
  const row = (name: string, baseline: number[], mosaic: number[], notes: string): BenchResult => {
    const b = median(baseline);
    const m = median(mosaic);
    return { name, baselineMs: Math.round(b * 10) / 10, mosaicMs: Math.round(m * 10) / 10, ratio: Math.round((m / b) * 100) / 100, notes };
  };
  const of = `median of ${ROUNDS}, ${FILES} files, interleaved`;
  return [
    row('finish: import of 1 commit from the private git dir', times.fetch, times.import, `baseline: git fetch from the private git dir; ${of}`),
    row('finish: snapshot of 1 new file', times.commit, times.snapshot, `baseline: git add -A && git commit; ${of}`),
    row('finish: worktree removal', times.wtRemove, times.remove, `baseline: git worktree remove --force; ${of}`),
  ];
}
