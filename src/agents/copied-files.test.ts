import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAgent } from '../cli/agent-format.js';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';

/**
 * Issue 12: files copied in with `copyFiles` are usually gitignored (`.env`),
 * and a snapshot must still save the agent's work without ever committing
 * them, however the agent ends and whatever it did to the copies.
 */
describe('snapshots with copied files', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  // `.env` ignored by name, `secrets/key.txt` inside an ignored directory, `local.cfg` not ignored at all.
  const copied = ['.env', 'secrets/key.txt', 'local.cfg'];

  beforeAll(async () => {
    repo = await makeTempRepo({ gitignore: '.env\nsecrets/\nnode_modules/\n' });
    writeFileSync(join(repo.path, '.env'), 'TOKEN=main-checkout\n');
    mkdirSync(join(repo.path, 'secrets'));
    writeFileSync(join(repo.path, 'secrets/key.txt'), 'key\n');
    writeFileSync(join(repo.path, 'local.cfg'), 'local=1\n');
    t = await startTestInstance({ killGraceMs: 300 });
    const res = await t.api('POST', '/repos', { name: 'app', path: repo.path, copyFiles: copied });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  const branchFiles = (branch: string) => git(repo.path, 'diff', '--name-only', `main...${branch}`).split('\n').filter(Boolean).sort();
  /** Every path in any commit of the branch that is not on main. */
  const everCommitted = (branch: string) =>
    git(repo.path, 'log', '--format=', '--name-only', `main..${branch}`).split('\n').filter(Boolean);

  function expectCopiesNeverCommitted(branch: string): void {
    const paths = everCommitted(branch);
    for (const file of copied) expect(paths).not.toContain(file);
    expect(readFileSync(join(repo.path, '.env'), 'utf8')).toBe('TOKEN=main-checkout\n');
  }

  it('a completed agent keeps its commit and its uncommitted file, never the copies', async () => {
    const spawned = await spawnCommand(t, 'test -f .env && test -f secrets/key.txt && test -f local.cfg && echo one > one.txt && git add one.txt && git commit -qm "agent work" && echo two > two.txt', { taskId: 'completes' });
    const agent = await waitForState(t, spawned.id);
    expect(agent.state).toBe('completed');
    expect(agent.result?.snapshotError).toBeUndefined();
    expect(branchFiles(agent.branch)).toEqual(['one.txt', 'two.txt']);
    expect(agent.result).toMatchObject({ commitsAhead: 2, filesChanged: 2 });
    expect(agent.result?.snapshotCommit).toMatch(/^[0-9a-f]{40}$/);
    expectCopiesNeverCommitted(agent.branch);
    expect(existsSync(agent.worktreePath)).toBe(false);
  });

  it('a failed agent keeps its work, never the copies', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'echo partial > partial.txt; exit 3', { taskId: 'fails' })).id);
    expect(agent.state).toBe('failed');
    expect(branchFiles(agent.branch)).toEqual(['partial.txt']);
    expectCopiesNeverCommitted(agent.branch);
    expect(existsSync(agent.worktreePath)).toBe(false);
  });

  it('a killed agent keeps its work, never the copies', async () => {
    const spawned = await spawnCommand(t, 'echo started > started.txt; echo changed >> .env; sleep 30', { taskId: 'killed' });
    const running = await waitForState(t, spawned.id, ['running']);
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(running.worktreePath, 'started.txt')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect((await t.api('POST', `/agents/${spawned.id}/kill`)).status).toBe(202);
    const agent = await waitForState(t, spawned.id);
    expect(agent.state).toBe('killed');
    expect(branchFiles(agent.branch)).toEqual(['started.txt']);
    expectCopiesNeverCommitted(agent.branch);
    expect(existsSync(agent.worktreePath)).toBe(false);
  });

  it('copies the agent modified are not committed', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'echo X=1 >> .env; echo more >> local.cfg; echo new > secrets/key.txt; echo work > work.txt', { taskId: 'modifies' })).id);
    expect(agent.state).toBe('completed');
    expect(branchFiles(agent.branch)).toEqual(['work.txt']);
    expect(agent.result).toMatchObject({ filesChanged: 1 });
    expectCopiesNeverCommitted(agent.branch);
  });

  it('copies the agent deleted are not committed (nor recorded as deletions)', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'rm -r .env local.cfg secrets && echo work > after-delete.txt', { taskId: 'deletes' })).id);
    expect(agent.state).toBe('completed');
    expect(branchFiles(agent.branch)).toEqual(['after-delete.txt']);
    expectCopiesNeverCommitted(agent.branch);
    expect(existsSync(join(repo.path, 'local.cfg'))).toBe(true);
  });

  it('reconciliation snapshots an orphaned worktree holding copies, never committing them', async () => {
    const orphan = join(`${repo.path}_worktrees`, 'agent-orphan-copies');
    git(repo.path, 'worktree', 'add', '-q', '-b', 'agent-orphan-copies', orphan, 'main');
    writeFileSync(join(orphan, '.env'), 'TOKEN=copied\n');
    writeFileSync(join(orphan, 'local.cfg'), 'local=1\n');
    writeFileSync(join(orphan, 'orphan.txt'), 'left behind\n');
    const res = await t.api<{ removed: { path: string }[]; errors: unknown[] }>('POST', '/worktrees/reconcile');
    expect(res.status).toBe(200);
    expect(res.body.errors).toEqual([]);
    expect(res.body.removed.map((w) => w.path)).toContain(orphan);
    expect(branchFiles('agent-orphan-copies')).toEqual(['orphan.txt']);
    expectCopiesNeverCommitted('agent-orphan-copies');
  });

  it('a snapshot that fails ends the agent failed/work_not_saved, visible on the record and in `agents show`, and the worktree is kept', async () => {
    // The worktree's link to the repository breaks (a sandboxed agent cannot remove its own .git, so the
    // test does it from outside): nothing can be committed from it.
    const spawned = await spawnCommand(t, 'echo unsaved > unsaved.txt && while [ ! -f go ]; do sleep 0.05; done', { taskId: 'breaks' });
    const running = await waitForState(t, spawned.id, ['running']);
    await waitFor(() => existsSync(join(running.worktreePath, 'unsaved.txt')), { timeoutMs: 15_000 });
    rmSync(join(running.worktreePath, '.git'));
    writeFileSync(join(running.worktreePath, 'go'), '');
    const agent = await waitForState(t, spawned.id);
    // Issue 17: never `completed` while its work is not on its branch.
    expect(agent.state).toBe('failed');
    expect(agent.error?.code).toBe('work_not_saved');
    expect(agent.error?.message).toContain(agent.worktreePath);
    expect(agent.result?.snapshotError).toMatch(/worktree kept at/);
    expect(existsSync(join(agent.worktreePath, 'unsaved.txt'))).toBe(true);
    expect(formatAgent(agent)).toMatch(/snapshot failed\s+.*worktree kept/);
    expect(formatAgent(agent)).toMatch(/work kept in\s+.*breaks/);
  });
});
