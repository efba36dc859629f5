import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorktreeManager } from '../git/index.js';
import { OWNER_FILE, privateGitDir } from '../git/owner.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { git, makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';

/**
 * Issue 7, must-hold 7: several instances, one repository. Each worktree
 * records which instance made it; reconciliation never snapshots or removes
 * a worktree made by another instance, or one a live agent it does not know
 * works in.
 */
describe('two instances on one repository', () => {
  let a: TestInstance;
  let b: TestInstance;
  let repo: TempDir;
  beforeAll(async () => {
    repo = await makeTempRepo();
    [a, b] = await Promise.all([startTestInstance({ name: 'a' }), startTestInstance({ name: 'b' })]);
    for (const t of [a, b]) expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.allSettled([a.stop(), b.stop()]);
    repo.cleanup();
  });

  it("never removes the other instance's running agent's worktree, and that agent's work is kept", { timeout: 60_000 }, async () => {
    // The release signal goes through the agent's own worktree: all a sandboxed agent sees.
    const agent = await spawnCommand(a, 'echo one > one.txt; while [ ! -f .go-a ]; do sleep 0.05; done; echo two > two.txt; git add -A; git commit -qm work');
    const go = join(agent.worktreePath, '.go-a');
    await waitForState(a, agent.id, ['running']);
    const dir = privateGitDir(agent.worktreePath)!;
    expect(readFileSync(join(dir, OWNER_FILE), 'utf8').trim()).toBe(a.identity.instanceId);

    const listed = (await b.api<{ worktrees: { path: string; orphan: boolean; instance?: string }[] }>('GET', '/worktrees')).body.worktrees;
    expect(listed).toContainEqual(expect.objectContaining({ path: agent.worktreePath, orphan: false, instance: a.identity.instanceId }));
    const report = (await b.api<{ removed: { path: string }[] }>('POST', '/worktrees/reconcile')).body;
    expect(report.removed.map((w) => w.path)).not.toContain(agent.worktreePath);
    // B restarting reconciles too.
    await b.stop(true);
    b = await startTestInstance({ name: 'b' }, b.home);
    expect(existsSync(agent.worktreePath)).toBe(true);

    writeFileSync(go, '');
    const ended = await waitForState(a, agent.id, ['completed', 'failed']);
    expect(ended.state).toBe('completed');
    expect(git(repo.path, 'show', `${agent.branch}:two.txt`).trim()).toBe('two');
  });

  it('keeps an unmarked worktree that a process it does not know works in', { timeout: 30_000 }, async () => {
    const stray = join(`${repo.path}_worktrees`, 'by-hand');
    git(repo.path, 'worktree', 'add', '-q', '-b', 'by-hand', stray, 'main');
    const sleeper = spawn('sleep', ['30'], { cwd: stray, stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const report = (await b.api<{ removed: { path: string }[] }>('POST', '/worktrees/reconcile')).body;
      expect(report.removed.map((w) => w.path)).not.toContain(stray);
      expect(existsSync(stray)).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
    }
    // Once nobody works in it, it is an orphan like before: snapshotted and removed.
    const report = (await b.api<{ removed: { path: string }[] }>('POST', '/worktrees/reconcile')).body;
    expect(report.removed.map((w) => w.path)).toContain(stray);
  });

  it('reconciles its own orphaned worktrees, and only its own', async () => {
    const made = await new WorktreeManager({ owner: b.identity.instanceId })
      .create({ repoPath: repo.path, name: 'left-by-b', branch: 'left-by-b', baseBranch: 'main' });
    writeFileSync(join(made.path, 'unsaved.txt'), 'work\n');
    const byA = (await a.api<{ removed: { path: string }[] }>('POST', '/worktrees/reconcile')).body;
    expect(byA.removed.map((w) => w.path)).not.toContain(made.path);
    const byB = (await b.api<{ removed: { path: string }[] }>('POST', '/worktrees/reconcile')).body;
    expect(byB.removed.map((w) => w.path)).toContain(made.path);
    expect(git(repo.path, 'show', 'left-by-b:unsaved.txt').trim()).toBe('work');
  });
});
