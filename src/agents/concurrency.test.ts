import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

/** Issue 2, must-hold 5: twenty agents spawned at once in one repository all start; none fails on git's locks. */
describe('twenty agents at once', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { maxAgents: 20 } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  it('starts and completes all of them, each with its own worktree, branch and port', async () => {
    const spawned = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      spawnCommand(t, 'echo "$MOSAIC_AGENT_ID $PORT" > who.txt && git add who.txt && git commit -qm "agent $MOSAIC_AGENT_ID"', { taskId: `t${i}` })));
    const ended = await Promise.all(spawned.map((a) => waitForState(t, a.id, ['completed', 'failed', 'killed'], 150_000)));
    const failures = ended.filter((a) => a.state !== 'completed').map((a) => ({ id: a.id, error: a.error }));
    expect(failures).toEqual([]);
    expect(new Set(ended.map((a) => a.branch)).size).toBe(20);
    const ports = ended.map((a) => a.port);
    expect(ports.every((p) => typeof p === 'number' && p > 0)).toBe(true);
    for (const agent of ended) {
      expect(existsSync(agent.worktreePath)).toBe(false);
      const content = git(repo.path, 'show', `${agent.branch}:who.txt`);
      expect(content.split(' ')[0]).toBe(agent.id);
    }
    expect(new Set(ended.map((a) => git(repo.path, 'show', `${a.branch}:who.txt`).split(' ')[1])).size).toBe(20);
    expect(git(repo.path, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  }, 180_000); // twenty sandboxed lifecycles on a shared 2-core machine (under load ~18: about 55 s)
});
