import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';

/** Issue 2, must-hold 1 and 2: no agent's work is ever lost, whatever way it ends. */
describe('agent work is kept', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  beforeAll(async () => {
    repo = await makeTempRepo();
    t = await startTestInstance({ killGraceMs: 300 });
    const res = await t.api('POST', '/repos', { name: 'app', path: repo.path });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  const branchFiles = (branch: string) => git(repo.path, 'diff', '--name-only', `main...${branch}`).split('\n').filter(Boolean).sort();
  const branchSubjects = (branch: string) => git(repo.path, 'log', '--format=%s', `main..${branch}`).split('\n').filter(Boolean);

  it('completes with its commit plus a snapshot of uncommitted changes, worktree gone, logs and diff readable', async () => {
    const spawned = await spawnCommand(t, 'echo committed > a.txt && git add a.txt && git commit -qm "agent work" && echo dirty > b.txt && echo hello-from-agent');
    expect(spawned.state).toBe('queued');
    const agent = await waitForState(t, spawned.id);
    expect(agent.state).toBe('completed');
    expect(agent.exitCode).toBe(0);
    expect(agent.error).toBeNull();

    const subjects = branchSubjects(agent.branch);
    expect(subjects).toHaveLength(2);
    expect(subjects[0]).toMatch(/^mosaic: snapshot/);
    expect(subjects[1]).toBe('agent work');
    expect(branchFiles(agent.branch)).toEqual(['a.txt', 'b.txt']);
    expect(agent.result).toMatchObject({ commitsAhead: 2, filesChanged: 2 });
    expect(existsSync(agent.worktreePath)).toBe(false);
    expect(git(repo.path, 'worktree', 'list')).not.toContain(agent.worktreePath);

    const logs = await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`);
    expect(logs.status).toBe(200);
    expect(logs.body.lines).toContain('hello-from-agent');
    const diff = await t.api<string>('GET', `/agents/${agent.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body).toContain('+committed');
    expect(diff.body).toContain('+dirty');
  });

  it('snapshots the work of an agent that fails', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'echo partial > failed.txt; exit 3', { taskId: 'fails' })).id);
    expect(agent.state).toBe('failed');
    expect(agent.error).toMatchObject({ code: 'exit_nonzero' });
    expect(agent.exitCode).toBe(3);
    expect(branchFiles(agent.branch)).toEqual(['failed.txt']);
    expect(existsSync(agent.worktreePath)).toBe(false);
  });

  it('snapshots the work of an agent that times out', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'echo slow > timeout.txt; sleep 30', { taskId: 'slow', timeoutS: 1 })).id);
    expect(agent.state).toBe('failed');
    expect(agent.error).toMatchObject({ code: 'timeout' });
    expect(branchFiles(agent.branch)).toEqual(['timeout.txt']);
    expect(existsSync(agent.worktreePath)).toBe(false);
  });

  it('snapshots the work of an agent that is killed', async () => {
    const spawned = await spawnCommand(t, 'echo started > killed.txt; sleep 30', { taskId: 'killme' });
    const running = await waitForState(t, spawned.id, ['running']);
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(running.worktreePath, 'killed.txt')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const kill = await t.api('POST', `/agents/${spawned.id}/kill`);
    expect(kill.status).toBe(202);
    const agent = await waitForState(t, spawned.id);
    expect(agent.state).toBe('killed');
    expect(branchFiles(agent.branch)).toEqual(['killed.txt']);
    expect(existsSync(agent.worktreePath)).toBe(false);
  });

  it('snapshots and removes a worktree no agent owns when reconciling', async () => {
    const orphan = join(`${repo.path}_worktrees`, 'agent-orphan-x');
    git(repo.path, 'worktree', 'add', '-q', '-b', 'agent-orphan-x', orphan, 'main');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(orphan, 'orphan.txt'), 'left behind\n');

    const listed = await t.api<{ worktrees: { path: string; orphan: boolean; agentId: string | null }[] }>('GET', '/worktrees');
    expect(listed.body.worktrees).toContainEqual(expect.objectContaining({ path: orphan, orphan: true, agentId: null }));

    const res = await t.api<{ removed: { path: string }[] }>('POST', '/worktrees/reconcile');
    expect(res.status).toBe(200);
    expect(res.body.removed.map((w) => w.path)).toEqual([orphan]);
    expect(existsSync(orphan)).toBe(false);
    expect(branchFiles('agent-orphan-x')).toEqual(['orphan.txt']);
  });

  it('returns the first agent for a repeated idempotencyKey', async () => {
    const body = { repo: 'app', taskId: 'idem', prompt: 'p', runtime: { kind: 'command', argv: ['true'] }, idempotencyKey: 'retry-1' };
    const first = await t.api<{ id: string }>('POST', '/agents', body);
    const second = await t.api<{ id: string }>('POST', '/agents', body);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    const [a, b] = await Promise.all([
      t.api<{ id: string }>('POST', '/agents', { ...body, idempotencyKey: 'race' }),
      t.api<{ id: string }>('POST', '/agents', { ...body, idempotencyKey: 'race' }),
    ]);
    expect(a.body.id).toBe(b.body.id);
    const listed = await t.api<{ agents: { id: string; taskId: string }[] }>('GET', '/agents?taskId=idem');
    expect(listed.body.agents).toHaveLength(2);
  });
});
