import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git, groupAlive, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { startServerChild, type ServerChild } from '../test-support/server-child.js';

/** Issue 2, must-hold 6: the server is SIGKILLed while agents run; a restart re-attaches or ends them, losing nothing. */
describe('restart after the server is SIGKILLed', () => {
  const home = mkdtempSync(join(tmpdir(), 'mosaic-restart-'));
  let server: ServerChild | undefined;
  let restarted: TestInstance | undefined;
  let repo: { path: string; cleanup(): void } | undefined;

  afterAll(async () => {
    await server?.crash();
    await restarted?.stop(true);
    repo?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('re-attaches running agents and ends orphaned ones as orchestrator_lost with their work saved', { timeout: 90_000 }, async () => {
    repo = await makeTempRepo();
    server = await startServerChild({ home });
    const { api } = server;
    const call = async (method: string, path: string, body?: unknown) => (await api<Record<string, unknown>>(method, path, body)).body;
    await call('POST', '/repos', { name: 'app', path: repo.path });
    const spawnScript = async (taskId: string, script: string) =>
      call('POST', '/agents', { repo: 'app', taskId, prompt: 'p', runtime: { kind: 'command', argv: ['sh', '-c', script] } });
    const survivor = await spawnScript('survivor', 'echo early > survivor.txt; while [ ! -f go ]; do sleep 0.05; done; echo finished-after-restart');
    const orphan = await spawnScript('orphan', 'echo saved > orphan.txt; sleep 300');

    const running = async (id: unknown) => {
      for (let i = 0; i < 200; i += 1) {
        const agent = await call('GET', `/agents/${String(id)}`);
        if (agent.state === 'running') return agent;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('agent never ran');
    };
    const [, orphanRunning] = await Promise.all([running(survivor.id), running(orphan.id)]);
    await new Promise((r) => setTimeout(r, 300)); // let both scripts write their files

    // Crash the server, and the orphan's supervisor with it.
    await server.crash();
    process.kill(orphanRunning.pid as number, 'SIGKILL');
    const orphanGroup = orphanRunning.pgid as number;

    // The survivor keeps running while no server is up; let it finish now (through its own worktree: all a sandboxed agent sees).
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(String(survivor.worktreePath), 'go'), '');

    restarted = await startTestInstance({ killGraceMs: 300 }, home);
    const survived = await waitForState(restarted, String(survivor.id));
    expect(survived.state).toBe('completed');
    const logs = await restarted.api<{ lines: string[] }>('GET', `/agents/${String(survivor.id)}/logs`);
    expect(logs.body.lines).toContain('finished-after-restart');
    expect(git(repo.path, 'show', `${survived.branch}:survivor.txt`)).toBe('early');

    const lost = await waitForState(restarted, String(orphan.id));
    expect(lost.state).toBe('failed');
    expect(lost.error?.code).toBe('orchestrator_lost');
    expect(git(repo.path, 'show', `${lost.branch}:orphan.txt`)).toBe('saved');
    expect(groupAlive(orphanGroup)).toBe(false);

    // No worktree is left without a live owner.
    expect(existsSync(survived.worktreePath)).toBe(false);
    expect(existsSync(lost.worktreePath)).toBe(false);
    const worktrees = await restarted.api<{ worktrees: unknown[] }>('GET', '/worktrees');
    expect(worktrees.body.worktrees).toEqual([]);
  });
});
