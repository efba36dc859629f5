import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { startServerChild, type ServerChild } from '../test-support/server-child.js';
import { waitFor } from '../test-support/wait.js';

/**
 * Issue 7, must-hold 15: a crash during launch does not fail agents. An agent
 * caught `spawning` (its repository's setup still running) by a SIGKILLed
 * server is queued again at restart, its half-made worktree cleaned, and
 * then runs once and completes.
 */
describe('a crash during launch', () => {
  const home = mkdtempSync(join(tmpdir(), 'mosaic-midlaunch-'));
  let server: ServerChild | undefined;
  let restarted: TestInstance | undefined;
  let repo: { path: string; cleanup(): void } | undefined;

  afterAll(async () => {
    await server?.crash();
    await restarted?.stop();
    repo?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  it('queues the agent again and runs it once after the restart', { timeout: 90_000 }, async () => {
    repo = await makeTempRepo();
    // Setup and agent talk to the test through their worktree: all a sandboxed agent (and its setup) sees.
    const marker = '.setup-may-finish';
    server = await startServerChild({ home });
    const { api } = server;
    const call = async (method: string, path: string, body?: unknown) => (await api<Record<string, unknown>>(method, path, body)).body;
    // The setup waits for the marker: the first launch is still in it when the server dies.
    await call('POST', '/repos', { name: 'app', path: repo.path, setup: ['sh', '-c', `while [ ! -f ${marker} ]; do sleep 0.05; done; rm ${marker}`] });
    const agent = await call('POST', '/agents', {
      repo: 'app', taskId: 'midlaunch', prompt: 'p', runtime: { kind: 'command', argv: ['sh', '-c', 'echo run >> runs.txt; echo work > work.txt'] },
    });
    await waitFor(async () => (await call('GET', `/agents/${String(agent.id)}`)).state === 'spawning', { what: 'the agent to be spawning' });
    await waitFor(() => existsSync(String(agent.worktreePath)), { what: 'the worktree' });

    await server.crash();

    restarted = await startTestInstance({ killGraceMs: 300 }, home);
    // The second launch made the worktree again (after cleaning the half-made one): let its setup finish.
    const again = restarted;
    await waitFor(async () => (await again.store.events.after(0, 10_000)).filter((e) => e.agentId === agent.id && e.data.state === 'spawning').length === 2,
      { timeoutMs: 30_000, what: 'the second launch' });
    // A tracked file, not `.git`: git registers the worktree before its files are there (a checkout, or a layered one's mount).
    await waitFor(() => existsSync(join(String(agent.worktreePath), 'README.md')), { timeoutMs: 30_000, what: 'the new worktree' });
    writeFileSync(join(String(agent.worktreePath), marker), '');
    const ended = await waitForState(restarted, String(agent.id), ['completed', 'failed', 'killed'], 30_000);
    expect(ended.state).toBe('completed');
    expect(ended.error).toBeNull();
    // Run once, never twice, and its work is on its branch.
    expect(git(repo.path, 'show', `${ended.branch}:runs.txt`)).toBe('run');
    const states = (await restarted.store.events.after(0, 10_000)).filter((e) => e.agentId === agent.id).map((e) => e.data.state);
    expect(states).toEqual(['queued', 'spawning', 'queued', 'spawning', 'running', 'completed']);
    expect((await restarted.api<{ worktrees: unknown[] }>('GET', '/worktrees')).body.worktrees).toEqual([]);
  });
});
