import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../../test-support/agents.js';
import { git, makeTempRepo, type TempDir } from '../../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { startServerChild, type ServerChild } from '../../test-support/server-child.js';
import { waitFor } from '../../test-support/wait.js';
import { POOL_SETUP, poolReady } from '../../test-support/pool.js';

interface WorktreeView { path: string; pooled: boolean; orphan: boolean }

/** Issue 10, must-hold 4: a full pool survives a server crash; a worktree damaged meanwhile is rebuilt. */
describe('warm pool across a server restart', () => {
  const home = mkdtempSync(join(tmpdir(), 'mosaic-pool-restart-'));
  let server: ServerChild | undefined;
  let restarted: TestInstance | undefined;
  let repo: TempDir | undefined;

  afterAll(async () => {
    await server?.crash();
    await restarted?.stop(true);
    repo?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('keeps intact pooled worktrees, rebuilds damaged ones, and reports none as orphan', async () => {
    repo = await makeTempRepo({ files: { 'package-lock.json': '{"lock":1}\n' }, gitignore: 'node_modules/\nvendor/\n' });
    mkdirSync(join(repo.path, 'vendor'));
    writeFileSync(join(repo.path, 'vendor', 'lib.txt'), 'shared vendor\n'); // a shared dir: its layers must survive the restart too
    server = await startServerChild({ home });
    const { api } = server;
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await api<T>(method, path, body)).body;
    await call('POST', '/repos', { name: 'app', path: repo.path, setup: POOL_SETUP, poolSize: 3, shareDirs: ['vendor'] });
    const pooled = await waitFor(async () => {
      const worktrees = (await call<{ worktrees: WorktreeView[] }>('GET', '/worktrees')).worktrees;
      const repoView = await call<{ pool: { ready: number } }>('GET', '/repos/app');
      return repoView.pool.ready === 3 && worktrees.length === 3 ? worktrees : null;
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'the pool to fill' });
    expect(pooled.every((w) => w.pooled && !w.orphan)).toBe(true);

    // Crash the server with a full pool, then damage two pooled worktrees while it is down.
    await server.crash();
    const [intact, edited, deleted] = pooled.map((w) => w.path) as [string, string, string];
    writeFileSync(join(edited, 'README.md'), 'tampered while the server was down\n');
    rmSync(deleted, { recursive: true, force: true });

    restarted = await startTestInstance({ killGraceMs: 300 }, home);
    const view = await poolReady(restarted, 3);
    expect(view.pool).toMatchObject({ size: 3, ready: 3, preparing: 0 });
    const after = (await restarted.api<{ worktrees: WorktreeView[] }>('GET', '/worktrees')).body.worktrees;
    expect(after).toHaveLength(3);
    expect(after.every((w) => w.pooled && !w.orphan)).toBe(true);
    const paths = after.map((w) => w.path);
    expect(paths).toContain(intact); // kept, not rebuilt
    expect(paths).not.toContain(edited); // damaged: rebuilt under a new name
    expect(paths).not.toContain(deleted);
    expect(existsSync(edited)).toBe(false);
    expect(git(repo.path, 'worktree', 'list', '--porcelain')).not.toContain(deleted);
    expect(readFileSync(join(intact, 'node_modules', '.lock-seen'), 'utf8')).toBe('{"lock":1}\n');
    const report = (await restarted.api<{ removed: unknown[] }>('POST', '/worktrees/reconcile')).body;
    expect(report.removed).toEqual([]);

    // And the pool still serves spawns.
    const agent = await waitForState(restarted, (await spawnCommand(restarted, 'cat node_modules/.lock-seen vendor/lib.txt')).id);
    expect(agent.state).toBe('completed');
    expect(agent.pooled).toBe(true);
    expect((await restarted.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines).toContain('shared vendor');
  }, 120_000);
});
