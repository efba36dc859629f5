import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';

/** Issue 8: the diff of a running agent shows its uncommitted changes too, never the copied files. */
describe('diff of a running agent', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  beforeAll(async () => {
    repo = await makeTempRepo();
    writeFileSync(join(repo.path, '.env'), 'SECRET=never-in-a-diff\n');
    t = await startTestInstance();
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path, copyFiles: ['.env'] })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  it('includes commits, staged, unstaged and untracked changes, leaves the agent\'s index alone', async () => {
    const agent = await spawnCommand(t, [
      'echo committed > committed.txt && git add committed.txt && git commit -qm c',
      'echo staged > staged.txt && git add staged.txt',
      'echo untracked > untracked.txt',
      'echo unstaged-line >> README.md',
      'echo done-writing && sleep 60',
    ].join(' && '));
    await waitForState(t, agent.id, ['running']);
    const diff = await waitFor(async () => {
      const text = (await t.api<string>('GET', `/agents/${agent.id}/diff`)).body;
      return typeof text === 'string' && text.includes('+untracked') ? text : null;
    }, { timeoutMs: 20_000, what: 'the diff to show the untracked file' });
    expect(diff).toContain('+committed');
    expect(diff).toContain('+staged');
    expect(diff).toContain('+unstaged-line');
    expect(diff).not.toContain('SECRET');
    expect(diff).not.toContain('.env');
    // The agent's own index is exactly as the agent left it.
    expect(git(agent.worktreePath, 'diff', '--cached', '--name-only')).toBe('staged.txt');
    expect(git(agent.worktreePath, 'ls-files', '--others', '--exclude-standard').split('\n').sort()).toEqual(['.env', 'untracked.txt']);
    expect(git(agent.worktreePath, 'log', '--format=%s', '-1')).toBe('c');
    await t.api('POST', `/agents/${agent.id}/kill`);
  });
});
