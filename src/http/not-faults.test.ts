import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { agentDir } from '../agents/context.js';
import { EXIT_FILE } from '../agents/supervisor/spec.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

/**
 * Issue 7, must-hold 14: errors that are not faults are not 500s. A git lock
 * held by someone else is a retryable 409 `git_busy`; a full disk is 507
 * `insufficient_storage` with nothing half-written; an agent whose
 * supervisor cannot write its exit file at first is still recorded by how it
 * really ended, not `orchestrator_lost`.
 */
describe('errors that are not faults', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo();
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  it('answers 409 git_busy (retryable) to a discard while packed-refs.lock is held, and discards once it is released', async () => {
    const agent = await spawnCommand(t, 'echo done');
    await waitForState(t, agent.id, ['completed']);
    const lock = join(repo.path, '.git', 'packed-refs.lock');
    writeFileSync(lock, '');
    try {
      const busy = await t.api<ErrorBody>('DELETE', `/agents/${agent.id}`);
      expect(busy.status).toBe(409);
      expect(busy.body.error.code).toBe('git_busy');
      expect(busy.body.error.details).toMatchObject({ retryable: true });
      expect((await t.api('GET', `/agents/${agent.id}`)).status).toBe(200);
    } finally {
      rmSync(lock, { force: true });
    }
    expect((await t.api('DELETE', `/agents/${agent.id}`)).status).toBe(204);
  });

  it('answers 507 insufficient_storage when the store is full, and records nothing', async () => {
    // A full disk cannot be made without privileges here: the store's write fails as SQLite does on one.
    const agents = t.store.agents;
    const before = (await agents.list()).length;
    const worktrees = existsSync(`${repo.path}_worktrees`) ? readdirSync(`${repo.path}_worktrees`).length : 0;
    const insert = agents.insert.bind(agents);
    agents.insert = () => Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    try {
      const res = await t.api<ErrorBody>('POST', '/agents', { repo: 'app', taskId: 'full', prompt: 'p', runtime: { kind: 'command', argv: ['true'] } });
      expect(res.status).toBe(507);
      expect(res.body.error.code).toBe('insufficient_storage');
    } finally {
      agents.insert = insert;
    }
    expect((await t.store.agents.list()).length).toBe(before);
    expect(existsSync(`${repo.path}_worktrees`) ? readdirSync(`${repo.path}_worktrees`).length : 0).toBe(worktrees);
  });

  it('records how the agent ended when its exit file could not be written at first', { timeout: 30_000 }, async () => {
    // Released through its own worktree: all a sandboxed agent sees.
    const agent = await spawnCommand(t, 'while [ ! -f go-exit ]; do sleep 0.05; done; echo finished');
    const signal = join(agent.worktreePath, 'go-exit');
    await waitForState(t, agent.id, ['running']);
    // A directory where exit.json goes: the supervisor's atomic rename fails, as it would on a full disk.
    const exitPath = join(agentDir(t.config, agent.id), EXIT_FILE);
    mkdirSync(exitPath);
    writeFileSync(signal, '');
    // The agent has ended; the supervisor keeps trying and the server keeps waiting.
    await waitFor(() => existsSync(join(agentDir(t.config, agent.id), 'output.log')) && readdirSync(agentDir(t.config, agent.id)).length > 0, { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await t.api<PublicAgent>('GET', `/agents/${agent.id}`)).body.state).toBe('running');
    rmSync(exitPath, { recursive: true });
    const ended = await waitForState(t, agent.id, ['completed', 'failed'], 20_000);
    expect(ended.state).toBe('completed');
    expect(ended.exitCode).toBe(0);
  });
});
