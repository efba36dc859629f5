import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { waitForAllEnded } from '../src/test-support/agents.js';
import { TRASH_DIR } from '../src/git/detach.js';
import { startServerChild, type ServerChild } from '../src/test-support/server-child.js';
import type { TestRepo } from '../src/test-support/test-repo.js';
import { bigRepo, byHand, median, phaseMedians, rawAdd, rawRemove, row, spawnScript, toRunning, waitEnded, type Timed } from './helpers.js';
import { warmVsCold } from './pools.bench.js';
import type { BenchResult } from './types.js';

/**
 * Spawn and finish cost (issue 24), on a generated 5,000-file repository with
 * the sandbox on, each Mosaic figure against its baseline measured in the same
 * run, rounds interleaved:
 *  (a) cold spawn created → running against a raw `git worktree add`;
 *  (b) the lifecycle of a one-line agent (spawn → completed: its change
 *      committed on its branch, the worktree removed) against the same by hand;
 *  (c) BENCH_BURST (default 50) spawns at once, all running, against as many
 *      raw adds one after another;
 *  (d) a warm spawn from a pool against a cold one, with a 2 s setup (pools.bench.ts);
 *  (e) a cold spawn right after the base moved (a new shared checkout) against a raw add.
 * Times come from the agent records. BENCH_ROUNDS (default 5) rounds for (a)
 * and (b), 3 for (d); BENCH_SPAWN_PARTS (default a,b,c,d,e) picks the parts.
 */

const LINE = 'echo x > f.txt';

function load(): string {
  return `load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
}

/**
 * `mosaic up` as its own process, as users run it: an in-process instance
 * would share the benchmark's heap, and every git process the server starts
 * costs it a fork of its whole address space (measured 6 ms for a small Node
 * process, 20 ms with 200 MB more). The monitor polls as it does by default
 * (200 ms): an agent's end is noticed by a watch on its exit record.
 */
async function instanceOn(repo: TestRepo, maxAgents: number): Promise<ServerChild> {
  const t = await startServerChild({ env: { MOSAIC_SANDBOX: 'required', MOSAIC_MAX_AGENTS: String(maxAgents), MOSAIC_POLL_MS: '200' } });
  const res = await t.api('POST', '/repos', { name: 'bench', path: repo.path });
  if (res.status !== 201) {
    await t.stop();
    throw new Error(`register answered ${res.status}`);
  }
  return t;
}

/**
 * Waits until the server has deleted the worktrees of agents that ended (it
 * renames them into `<repo>_worktrees/.trash/` and deletes them in the
 * background), so each measured step starts on a quiet disk rather than
 * beside the previous agent's 5,000 unlinks; the raw baseline's own
 * `worktree remove` is done before its next step too.
 */
async function trashEmptied(repo: TestRepo): Promise<void> {
  const trash = join(`${repo.path}_worktrees`, TRASH_DIR);
  const deadline = Date.now() + 60_000;
  while (existsSync(trash) && readdirSync(trash).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

async function timed(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

/** One cold spawn (an agent running `true`) and one raw `worktree add` of the same repository, in the order asked. */
async function coldBesideAdd(repo: TestRepo, t: ServerChild, task: string, mosaicFirst: boolean): Promise<{ addMs: number; cold: Timed }> {
  let addMs = 0;
  let cold: Timed | undefined;
  const a = async (): Promise<void> => {
    await trashEmptied(repo);
    addMs = await timed(() => rawAdd(repo.path, `raw-${task}`));
    await rawRemove(repo.path, `raw-${task}`);
  };
  const m = async (): Promise<void> => { await trashEmptied(repo); cold = await waitEnded(t, (await spawnScript(t, task, 'true')).id); };
  if (mosaicFirst) { await m(); await a(); } else { await a(); await m(); }
  return { addMs, cold: cold as Timed };
}

/** (a) and (b), interleaved round by round in one instance. */
async function coldAndLifecycle(repo: TestRepo, rounds: number): Promise<BenchResult[]> {
  const t = await instanceOn(repo, 4);
  const add: number[] = [];
  const cold: Timed[] = [];
  const hand: number[] = [];
  const life: Timed[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const mosaicFirst = i % 2 === 1;
      const pair = await coldBesideAdd(repo, t, `cold-${i}`, mosaicFirst);
      add.push(pair.addMs);
      cold.push(pair.cold);
      const h = async (): Promise<void> => { await trashEmptied(repo); hand.push(await timed(() => byHand(repo.path, `hand-${i}`, LINE))); };
      const l = async (): Promise<void> => { await trashEmptied(repo); life.push(await waitEnded(t, (await spawnScript(t, `life-${i}`, LINE)).id)); };
      if (mosaicFirst) { await l(); await h(); } else { await h(); await l(); }
    }
  } finally {
    await t.stop();
  }
  for (const agent of life) {
    if (agent.state !== 'completed' || agent.endedAt === null) throw new Error(`lifecycle agent ended ${agent.state}`);
  }
  const sandboxed = [...cold, ...life].filter((a) => a.sandbox === 'bubblewrap').length;
  const note = `median of ${rounds}; ${sandboxed}/${2 * rounds} in bubblewrap; ${load()}`;
  const timings = (agents: Timed[]): string => phaseMedians(agents.flatMap((a) => (a.timings ? [a.timings] : [])));
  return [
    row('(a) cold spawn created → running vs git worktree add (5,000 files, sandbox on)', median(add), median(cold.map(toRunning)),
      `${note}; median ms per phase: ${timings(cold)}`),
    row('(b) one-line agent spawn → completed vs by hand (add, run, commit, remove)', median(hand),
      median(life.map((a) => (a.endedAt as number) - a.createdAt)), `${note}; median ms per phase: ${timings(life)}`),
  ];
}

/**
 * (e) a cold spawn right after the base branch moved, against a raw add: with
 * layered worktrees (as root) the first spawn at a commit also writes that
 * commit's shared checkout, which (a) pays only once.
 */
async function coldAtNewBase(repo: TestRepo, rounds: number): Promise<BenchResult> {
  const t = await instanceOn(repo, 4);
  const add: number[] = [];
  const cold: Timed[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      repo.write('src/moved.ts', `export const round = ${i};\n`);
      repo.commitAll(`base moves (${i})`);
      const pair = await coldBesideAdd(repo, t, `newbase-${i}`, i % 2 === 1);
      add.push(pair.addMs);
      cold.push(pair.cold);
    }
  } finally {
    await t.stop();
  }
  return row('(e) cold spawn at a base commit no worktree used yet vs git worktree add', median(add), median(cold.map(toRunning)),
    `median of ${rounds}; median ms per phase: ${phaseMedians(cold.flatMap((a) => (a.timings ? [a.timings] : [])))}; ${load()}`);
}

/** (c) `n` spawns at once, to all running, against `n` raw adds one after another. */
async function burst(repo: TestRepo, n: number): Promise<BenchResult> {
  const serial = await timed(async () => {
    for (let i = 0; i < n; i++) await rawAdd(repo.path, `serial-${i}`);
  });
  for (let i = 0; i < n; i++) await rawRemove(repo.path, `serial-${i}`);

  const t = await instanceOn(repo, n);
  try {
    // Each waits for a `go` file, looking once a second: fifty agents polling faster would spend the cores the spawns are measured on.
    const spawned = await Promise.all(Array.from({ length: n }, (_, i) =>
      spawnScript(t, `burst-${i}`, 'while [ ! -f go ]; do sleep 1; done')));
    const ids = spawned.map((a) => a.id);
    const deadline = Date.now() + 15 * 60_000;
    let agents: Timed[] = [];
    for (;;) {
      // A loaded server may drop a kept-alive connection: ask again rather than lose the run.
      const listed = await t.api<{ agents: Timed[] }>('GET', '/agents').catch(() => null);
      if (listed === null) {
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const byId = new Map(listed.body.agents.map((a) => [a.id, a]));
      agents = ids.map((id) => byId.get(id) as Timed);
      if (agents.every((a) => a && a.state !== 'queued' && a.state !== 'spawning')) break;
      if (Date.now() > deadline) throw new Error('the burst never got all running');
      await new Promise((r) => setTimeout(r, 200));
    }
    const failed = agents.filter((a) => a.state !== 'running').length;
    const first = Math.min(...agents.map((a) => a.createdAt));
    const last = Math.max(...agents.map((a) => a.startedAt ?? Number.POSITIVE_INFINITY));
    const result = row(`(c) ${n} spawns at once, all running, vs ${n} serial git worktree add`, serial, last - first,
      `${failed} failed; median ms per phase: ${phaseMedians(agents.flatMap((a) => (a.timings ? [a.timings] : [])))}; ${load()}`);
    for (const a of agents) if (a.state === 'running') writeFileSync(join(a.worktreePath, 'go'), '');
    // Their ends are not measured: a dropped connection while waiting for them is asked again.
    for (let tries = 0; ; tries++) {
      try {
        await waitForAllEnded(t, ids, 15 * 60_000);
        break;
      } catch (err) {
        if (tries >= 20 || !String((err as Error).message).includes('fetch failed')) throw err;
      }
    }
    return result;
  } finally {
    await t.stop();
  }
}

export async function benchSpawn(): Promise<BenchResult[]> {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS) || 5);
  const n = Math.max(1, Number(process.env.BENCH_BURST) || 50);
  const repo = bigRepo();
  try {
    await rawAdd(repo.path, 'warm-up'); // the page cache and git's startup, so the first round is not penalized
    await rawRemove(repo.path, 'warm-up');
    // Each row is also printed as soon as it is measured (stderr), so a long run that fails late keeps what it had.
    const results: BenchResult[] = [];
    const keep = (row: BenchResult): void => {
      results.push(row);
      console.error(`spawn: ${row.name}: ${row.baselineMs} ms vs ${row.mosaicMs} ms = ${row.ratio}x (${row.notes ?? ''})`);
    };
    const parts = (process.env.BENCH_SPAWN_PARTS ?? 'a,b,c,d,e').split(',');
    if (parts.includes('a') || parts.includes('b')) for (const r of await coldAndLifecycle(repo, rounds)) keep(r);
    if (parts.includes('c')) keep(await burst(repo, n));
    if (parts.includes('e')) keep(await coldAtNewBase(repo, rounds));
    if (parts.includes('d')) {
      const warm = await warmVsCold(repo, Math.min(rounds, 3));
      keep({ ...warm, name: `(d) ${warm.name}`, notes: `${warm.notes}; ${load()}` });
    }
    return results;
  } finally {
    repo.cleanup();
  }
}
