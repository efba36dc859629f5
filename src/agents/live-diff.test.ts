import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../test-support/agents.js';
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
      'echo done-writing',
      // Its own index, as it sees it once the diff was taken (a sandboxed agent's index is private to it).
      'while [ ! -f .diff-taken ]; do sleep 0.05; done',
      'echo "CACHED:$(git diff --cached --name-only)"',
      'echo "OTHERS:$(git ls-files --others --exclude-standard | grep -v .diff-taken | sort | tr \'\\n\' \' \')"',
      'echo "LAST:$(git log --format=%s -1)"',
      'sleep 60',
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
    writeFileSync(join(agent.worktreePath, '.diff-taken'), '');
    const lines = await waitFor(async () => {
      const got = (await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
      return got.some((l) => l.startsWith('LAST:')) ? got : null;
    }, { timeoutMs: 20_000, what: 'the agent to report its index' });
    expect(lines).toContain('CACHED:staged.txt');
    expect(lines.find((l) => l.startsWith('OTHERS:'))?.trim()).toBe('OTHERS:.env untracked.txt');
    expect(lines).toContain('LAST:c');
    await t.api('POST', `/agents/${agent.id}/kill`);
  });
});
