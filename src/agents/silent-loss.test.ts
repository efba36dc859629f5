import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAgent } from '../cli/agent-format.js';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo, plantHalfMadeEntry } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { sandboxAvailable } from '../test-support/sandbox.js';

/** Issue 17, test 1: an agent never ends `completed` while its commits are not on its branch. */
describe.runIf(sandboxAvailable())('silent loss', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  beforeAll(async () => {
    repo = await makeTempRepo();
    t = await startTestInstance({ killGraceMs: 300, sandbox: 'required' });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  it('a half-made worktree entry elsewhere changes nothing: five agents, five commits on their branches', async () => {
    // Planted after start-up, so no reconciliation has cleared it: the import itself must not depend on it.
    const planted = plantHalfMadeEntry(repo.path, 'agent-halfmade-x');
    const spawned = await Promise.all([1, 2, 3, 4, 5].map((i) =>
      spawnCommand(t, `echo ${i} > f${i}.txt && git add f${i}.txt && git commit -qm "agent commit ${i}"`, { taskId: `five${i}` })));
    const ended = await Promise.all(spawned.map((a) => waitForState(t, a.id, undefined, 60_000)));
    for (const [i, agent] of ended.entries()) {
      expect(agent.state, JSON.stringify(agent.error)).toBe('completed');
      expect(git(repo.path, 'log', '--format=%s', `main..${agent.branch}`).split('\n')).toContain(`agent commit ${i + 1}`);
    }
    expect(existsSync(planted.entry)).toBe(true); // nobody cleared it for them
  }, 180_000);

  it('ends failed/work_not_saved, keeping the worktree and the private git dir, when the import cannot be done', async () => {
    // The agent commits, then deletes its own new objects: the commit can no longer be brought home.
    const script = 'echo lost > lost.txt && git add lost.txt && git commit -qm "doomed commit" && rm -rf "$(git rev-parse --git-dir)"/objects/[0-9a-f][0-9a-f]';
    const agent = await waitForState(t, (await spawnCommand(t, script, { taskId: 'doomed' })).id, undefined, 60_000);
    expect(agent.state).toBe('failed');
    expect(agent.error?.code).toBe('work_not_saved');
    const gitDir = join(t.home, 'agents', agent.id, 'sandbox', 'gitdir');
    expect(existsSync(agent.worktreePath)).toBe(true);
    expect(existsSync(join(gitDir, 'HEAD'))).toBe(true);
    expect(agent.error?.message).toContain(agent.worktreePath);
    expect(agent.error?.message).toContain(gitDir);
    const shown = formatAgent(agent);
    expect(shown).toContain(agent.worktreePath);
    expect(shown).toContain(gitDir);
    expect(shown).toMatch(/recover/i);
    expect(git(repo.path, 'log', '--format=%s', `main..${agent.branch}`)).not.toContain('doomed commit');
  }, 120_000);
});
