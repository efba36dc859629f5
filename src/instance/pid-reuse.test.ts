import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BOOT_ID_PATH_VAR, readPidFile } from '../agents/supervisor/index.js';
import { isPidAlive } from '../agents/supervisor/proc.js';
import { git, groupAlive, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { canForcePids, pidFileOfGoneProcess, pidFree, strangerAt, type Stranger } from '../test-support/pid-reuse.js';
import { poolReady } from '../test-support/pool.js';
import { startServerChild, type ServerChild } from '../test-support/server-child.js';
import { waitFor } from '../test-support/wait.js';

/**
 * Issue 23: after an agent, its supervisor or its setup is gone, the kernel
 * hands the recorded number to an unrelated process-group leader. Whatever
 * path Mosaic then takes (restart, the monitor's orphan path, restorePool,
 * a reboot), the stranger survives and the agent ends as it always did.
 */
describe.skipIf(!canForcePids())('recorded pids reused by unrelated processes', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  const strangers: Stranger[] = [];
  afterAll(async () => {
    for (const s of strangers) s.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function setUp(repoExtra: Record<string, unknown> = {}): Promise<{ home: string; repo: TempDir; t: TestInstance }> {
    const home = mkdtempSync(join(tmpdir(), 'mosaic-pid-reuse-'));
    const repo = await makeTempRepo();
    const t = await startTestInstance({ killGraceMs: 300 }, home);
    cleanups.push(() => {
      repo.cleanup();
      rmSync(home, { recursive: true, force: true });
    });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path, ...repoExtra })).status).toBe(201);
    return { home, repo, t };
  }

  async function restart(home: string): Promise<TestInstance> {
    const t = await startTestInstance({ killGraceMs: 300 }, home);
    cleanups.push(() => t.stop(true));
    return t;
  }

  async function stranger(pid: number): Promise<Stranger> {
    const s = await strangerAt(pid);
    strangers.push(s);
    return s;
  }

  it('restart, monitor orphan path: the agent ends orphaned, strangers at its supervisor pid and its pgid live on', { timeout: 90_000 }, async () => {
    const { home, repo, t } = await setUp();
    const spawned = await spawnCommand(t, 'echo saved > work.txt; echo ready; sleep 300');
    const running = await waitForState(t, spawned.id, ['running']);
    await waitFor(async () => (await t.api<{ lines: string[] }>('GET', `/agents/${spawned.id}/logs`)).body.lines.includes('ready'));
    const supervisorPid = running.pid as number;
    const pgid = running.pgid as number;
    await t.stop(true);

    // The agent ends, its supervisor records it and exits, both are reaped: the exit record is then lost.
    process.kill(-pgid, 'SIGKILL');
    await waitFor(() => pidFree(pgid) && pidFree(supervisorPid), { timeoutMs: 10_000, what: 'agent and supervisor reaped' });
    rmSync(join(home, 'agents', spawned.id, 'exit.json'), { force: true });
    const atGroup = await stranger(pgid);
    const atSupervisor = await stranger(supervisorPid);

    const restarted = await restart(home);
    const lost = await waitForState(restarted, spawned.id);
    expect(lost.state).toBe('failed');
    expect(lost.error?.code).toBe('orchestrator_lost');
    expect(git(repo.path, 'show', `${lost.branch}:work.txt`)).toBe('saved');
    expect(atGroup.alive()).toBe(true);
    expect(atSupervisor.alive()).toBe(true);
  });

  it('restart, a spawning agent whose setup.pid names a reused number: the stranger lives, the agent is queued again and runs', { timeout: 120_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'mosaic-pid-reuse-child-'));
    const repo = await makeTempRepo();
    let server: ServerChild | undefined = await startServerChild({ home });
    cleanups.push(async () => {
      await server?.crash();
      repo.cleanup();
      rmSync(home, { recursive: true, force: true });
    });
    // The setup waits until the base branch has a file `go`: the agent caught mid-setup finds it when relaunched.
    const setup = ['sh', '-c', 'while [ ! -f go ]; do sleep 0.05; done'];
    expect((await server.api('POST', '/repos', { name: 'app', path: repo.path, setup })).status).toBe(201);
    const spawned = (await server.api<{ id: string }>('POST', '/agents', {
      repo: 'app', taskId: 'task', prompt: 'p', runtime: { kind: 'command', argv: ['sh', '-c', 'echo ran'] },
    })).body;
    const pidFile = join(home, 'agents', spawned.id, 'setup.pid');
    const setupGroup = await waitFor(() => readPidFile(pidFile), { timeoutMs: 30_000, what: 'the setup to start' });
    await server.crash();
    server = undefined;
    // The setup dies with its server (or is ended here) and, orphaned on a machine whose init may not reap,
    // its own number may stay taken: the pid file is made to name a setup process that ended and was reaped.
    if (groupAlive(setupGroup)) process.kill(-setupGroup, 'SIGKILL');
    const reused = await pidFileOfGoneProcess(pidFile, spawned.id);
    const atSetup = await stranger(reused);

    writeFileSync(join(repo.path, 'go'), '');
    git(repo.path, 'add', 'go');
    git(repo.path, 'commit', '-q', '-m', 'go');
    const restarted = await restart(home);
    const done = await waitForState(restarted, spawned.id, ['completed', 'failed', 'killed'], 60_000);
    expect(done.state).toBe('completed');
    expect((await restarted.api<{ lines: string[] }>('GET', `/agents/${spawned.id}/logs`)).body.lines).toContain('ran');
    expect(atSetup.alive()).toBe(true);
  });

  it('restorePool with a setup pid file naming a reused number: the stranger lives, the pool is ready again', { timeout: 90_000 }, async () => {
    const { home, t } = await setUp({ setup: ['true'], poolSize: 1 });
    await poolReady(t, 1);
    await t.stop(true);
    const poolDir = join(home, 'pool', 'app');
    const id = readdirSync(poolDir).find((name) => name.endsWith('.json'))?.slice(0, -'.json'.length);
    if (id === undefined) throw new Error('no pool marker');
    const reused = await pidFileOfGoneProcess(join(poolDir, `${id}.setup.pid`), `pool-${id}`);
    const atSetup = await stranger(reused);

    const restarted = await restart(home);
    await poolReady(restarted, 1);
    expect(atSetup.alive()).toBe(true);
    expect(existsSync(join(poolDir, `${id}.setup.pid`))).toBe(false);
  });

  it('restart after a reboot (boot id changed): every recorded pid is gone, nothing is signalled', { timeout: 90_000 }, async () => {
    const bootFile = join(mkdtempSync(join(tmpdir(), 'mosaic-boot-')), 'boot_id');
    writeFileSync(bootFile, 'boot-before\n');
    const before = process.env[BOOT_ID_PATH_VAR];
    process.env[BOOT_ID_PATH_VAR] = bootFile;
    cleanups.push(() => {
      if (before === undefined) delete process.env[BOOT_ID_PATH_VAR];
      else process.env[BOOT_ID_PATH_VAR] = before;
    });
    const { home, t } = await setUp();
    const spawned = await spawnCommand(t, 'echo ready; sleep 300');
    const running = await waitForState(t, spawned.id, ['running']);
    const supervisorPid = running.pid as number;
    const pgid = running.pgid as number;
    cleanups.push(() => {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
      if (isPidAlive(supervisorPid)) process.kill(supervisorPid, 'SIGKILL');
    });
    await t.stop(true);

    // "Reboot": the same processes still run, but the boot id says every recorded pid is from another boot.
    writeFileSync(bootFile, 'boot-after\n');
    const restarted = await restart(home);
    const lost = await waitForState(restarted, spawned.id);
    expect(lost.state).toBe('failed');
    expect(lost.error?.code).toBe('orchestrator_lost');
    expect(isPidAlive(supervisorPid)).toBe(true);
    expect(groupAlive(pgid)).toBe(true);
  });
});
