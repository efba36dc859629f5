import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TIMING_PHASES, type AgentTimings } from '../src/core/agent-model.js';
import type { TestInstance } from '../src/test-support/instance.js';

/** What the helpers need of a server: its authenticated API (an in-process test instance or a server process). */
export type BenchServer = Pick<TestInstance, 'api'>;
import { makeTestRepo, type TestRepo } from '../src/test-support/test-repo.js';
import type { BenchResult } from './types.js';

/** Scaffolding shared by the suites that spawn agents on a generated repository (agents, pools, spawn). */

export const run = promisify(execFile);
export const IDENTITY = ['-c', 'user.name=Bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false'];

/** A repository of `files` small files in 50 directories, plus a lockfile (the warm pools' setup input). */
export function bigRepo(files = 5000): TestRepo {
  const repo = makeTestRepo();
  for (let i = 0; i < files; i++) repo.write(`src/d${i % 50}/m${i}.ts`, `export const v${i} = ${i};\n`);
  repo.write('package-lock.json', '{"lockfileVersion":3}\n');
  repo.commitAll(`${files} files`);
  return repo;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** One result row; `digits` decimals in the ratio. */
export function row(name: string, baselineMs: number, mosaicMs: number, notes: string, digits = 2): BenchResult {
  const f = 10 ** digits;
  return { name, baselineMs: round(baselineMs), mosaicMs: round(mosaicMs), ratio: Math.round((mosaicMs / baselineMs) * f) / f, notes };
}

/** Median ms of each phase over the agents' recorded timings (issue 24): where the time went. */
export function phaseMedians(all: AgentTimings[]): string {
  const parts: string[] = [];
  for (const phase of TIMING_PHASES) {
    const values = all.map((t) => t[phase]).filter((v): v is number => typeof v === 'number');
    if (values.length > 0) parts.push(`${phase} ${median(values)}`);
  }
  return parts.join(', ');
}

/** What the benchmarks read of an agent record. */
export interface Timed {
  id: string;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  state: string;
  pooled?: boolean;
  sandbox?: string | null;
  worktreePath: string;
  timings: AgentTimings | null;
}

const ENDED = ['completed', 'failed', 'killed'];

/** Spawns a `sh -c script` agent on repository `repo` (default `bench`); the record as the spawn answered it. */
export async function spawnScript(t: BenchServer, taskId: string, script: string, repo = 'bench'): Promise<Timed> {
  const res = await t.api<Timed>('POST', '/agents', {
    repo, taskId, prompt: 'bench', runtime: { kind: 'command', argv: ['sh', '-c', script] },
  });
  if (res.status !== 202) throw new Error(`spawn answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls one agent until it has ended. */
export async function waitEnded(t: BenchServer, id: string, everyMs = 20): Promise<Timed> {
  for (;;) {
    const agent = (await t.api<Timed>('GET', `/agents/${id}`)).body;
    if (ENDED.includes(agent.state)) return agent;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Spawns a `sh -c script` agent and waits for its end. */
export async function spawnAndWait(t: BenchServer, taskId: string, script = 'true'): Promise<Timed> {
  return waitEnded(t, (await spawnScript(t, taskId, script)).id);
}

/** createdAt → startedAt of an agent that completed (from its record, so polling does not blur it). */
export function toRunning(agent: Timed): number {
  if (agent.state !== 'completed' || agent.startedAt === null) throw new Error(`agent ended ${agent.state}: ${JSON.stringify(agent)}`);
  return agent.startedAt - agent.createdAt;
}

export async function poolReady(t: BenchServer, n: number, repo = 'bench'): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    const body = (await t.api<{ pool: { ready: number; preparing: number } }>('GET', `/repos/${repo}`)).body;
    if (body.pool.ready >= n && body.pool.preparing === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pool never filled');
}

/** A raw `git worktree add` of `main` on a new branch `name`, at `<repo>_worktrees/<name>`; returns its path. */
export async function rawAdd(repoPath: string, name: string): Promise<string> {
  const path = join(`${repoPath}_worktrees`, name);
  await run('git', ['worktree', 'add', '-q', '-b', name, path, 'main'], { cwd: repoPath });
  return path;
}

/** Removes what rawAdd made (worktree and branch). */
export async function rawRemove(repoPath: string, name: string): Promise<void> {
  await run('git', ['worktree', 'remove', '--force', join(`${repoPath}_worktrees`, name)], { cwd: repoPath });
  await run('git', ['branch', '-D', name], { cwd: repoPath });
}

function sh(cwd: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

/** An agent's lifecycle by hand: add a worktree, run the command, commit what it left, remove the worktree. */
export async function byHand(repoPath: string, name: string, script: string): Promise<void> {
  const path = await rawAdd(repoPath, name);
  await sh(path, script);
  await run('git', ['add', '-A'], { cwd: path });
  await run('git', [...IDENTITY, 'commit', '-q', '--no-verify', '-m', 'snapshot'], { cwd: path });
  await run('git', ['worktree', 'remove', '--force', path], { cwd: repoPath });
}
