import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestInstance, type TestInstance } from '../src/test-support/instance.js';
import { makeTestRepo, type TestRepo } from '../src/test-support/test-repo.js';
import type { BenchResult } from './types.js';

/**
 * shareDirs (issue 10): the disk a worktree takes for a shared
 * `node_modules` of PACKAGES x FILES small files (~62 MiB) on this machine's
 * no-copy mode (reflink clones, or the sandbox's overlay: a read-only shared
 * snapshot plus a private layer per worktree) against full copies (the same
 * instance settings with MOSAIC_SANDBOX=off on a filesystem without
 * reflinks). Real block usage (`du -sk`): a copy's blocks are its own, an
 * overlay's private part is its upper layer, and the shared snapshot is
 * paid once per repository (reported beside).
 */

const PACKAGES = 400;
const FILES = 40;
const FILE_BYTES = 4096;
const POOL = 3;

function repoWithDeps(): TestRepo {
  const repo = makeTestRepo();
  repo.write('.gitignore', 'node_modules/\n');
  repo.commitAll('ignore node_modules');
  const body = 'x'.repeat(FILE_BYTES - 1) + '\n';
  for (let p = 0; p < PACKAGES; p++) {
    const dir = join(repo.path, 'node_modules', `pkg${p}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < FILES; f++) writeFileSync(join(dir, `f${f}.js`), body);
  }
  return repo;
}

function kib(...paths: string[]): number {
  const present = paths.filter((p) => existsSync(p));
  if (present.length === 0) return 0;
  const out = execFileSync('du', ['-sk', '-c', ...present], { encoding: 'utf8' }).trim().split('\n');
  return Number(out[out.length - 1]!.split('\t')[0]);
}

async function waitFor<T>(what: string, check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Measured { mode: string; fillMs: number; perWorktreeKiB: number; agentKiB: number; snapshotKiB: number }

/** A pool of POOL over the shared node_modules; then one agent that appends to 10 of its files. */
async function measure(repo: TestRepo, sandbox: 'auto' | 'off'): Promise<Measured> {
  const t: TestInstance = await startTestInstance({ sandbox, pollMs: 20, maxAgents: 5 });
  try {
    const started = Date.now();
    const res = await t.api<{ shareMode: string }>('POST', '/repos', { name: 'bench', path: repo.path, setup: ['true'], poolSize: POOL, shareDirs: ['node_modules'] });
    if (res.status !== 201) throw new Error(`register answered ${res.status}`);
    await waitFor('the pool', async () => {
      const pool = (await t.api<{ pool: { ready: number; preparing: number } }>('GET', '/repos/bench')).body.pool;
      return pool.ready === POOL && pool.preparing === 0 ? true : null;
    });
    const fillMs = Date.now() - started;
    const pooled = (await t.api<{ worktrees: { path: string; pooled: boolean }[] }>('GET', '/worktrees')).body.worktrees.filter((w) => w.pooled);
    const poolDir = join(t.home, 'pool', 'bench');
    const layers = readdirSync(poolDir).filter((n) => n.endsWith('.share')).map((n) => join(poolDir, n));
    const perWorktreeKiB = kib(...pooled.map((w) => join(w.path, 'node_modules')), ...layers) / pooled.length;

    const script = 'for i in 0 1 2 3 4 5 6 7 8 9; do echo changed >> node_modules/pkg$i/f0.js; done; touch done; while [ ! -f go ]; do sleep 0.05; done';
    const agent = (await t.api<{ id: string; worktreePath: string }>('POST', '/agents', {
      repo: 'bench', taskId: 'writer', prompt: 'bench', runtime: { kind: 'command', argv: ['sh', '-c', script] },
    })).body;
    await waitFor('the agent', async () => (existsSync(join(agent.worktreePath, 'done')) ? true : null));
    const agentKiB = kib(join(agent.worktreePath, 'node_modules'), join(t.home, 'agents', agent.id, 'sandbox', 'share'));
    writeFileSync(join(agent.worktreePath, 'go'), '');
    await waitFor('the agent to end', async () => {
      const state = (await t.api<{ state: string }>('GET', `/agents/${agent.id}`)).body.state;
      return ['completed', 'failed', 'killed'].includes(state) ? state : null;
    });
    return { mode: res.body.shareMode, fillMs, perWorktreeKiB, agentKiB, snapshotKiB: kib(join(t.home, 'shared', 'snapshots', 'bench')) };
  } finally {
    await t.stop();
  }
}

export async function benchShare(): Promise<BenchResult[]> {
  const repo = repoWithDeps();
  try {
    const source = kib(join(repo.path, 'node_modules'));
    const shared = await measure(repo, 'auto');
    const copied = await measure(repo, 'off');
    if (copied.mode !== 'copy') throw new Error(`baseline ran as ${copied.mode}, not copy`);
    const ratio = (a: number, b: number): number => Math.round((a / b) * 1000) / 1000;
    const note = `${PACKAGES * FILES} files, ${source} KiB in the main checkout; sizes in KiB, not ms; mode ${shared.mode}`;
    return [
      { name: `node_modules per pooled worktree: ${shared.mode} vs full copy (KiB, du -sk)`, baselineMs: copied.perWorktreeKiB,
        mosaicMs: shared.perWorktreeKiB, ratio: ratio(shared.perWorktreeKiB, copied.perWorktreeKiB),
        notes: `${note}; plus one shared snapshot per repository: ${shared.snapshotKiB} KiB` },
      { name: `node_modules of an agent that changed 10 files: ${shared.mode} vs full copy (KiB)`, baselineMs: copied.agentKiB,
        mosaicMs: shared.agentKiB, ratio: ratio(shared.agentKiB, copied.agentKiB), notes: 'its private layer holds the changed files only' },
      { name: `pool of ${POOL} filled (register → ready): ${shared.mode} vs full copy`, baselineMs: copied.fillMs,
        mosaicMs: shared.fillMs, ratio: ratio(shared.fillMs, copied.fillMs), notes: 'setup `true`; the snapshot is copied once, each copy once per worktree' },
    ];
  } finally {
    repo.cleanup();
  }
}
