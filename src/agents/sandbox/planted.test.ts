import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, spawnCommand, waitForState } from '../../test-support/agents.js';
import { makeTempRepo } from '../../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { waitFor } from '../../test-support/wait.js';

/**
 * Issue 6, must-hold 5: a repository whose config or hooks would run a
 * program (core.fsmonitor, a post-checkout hook, a diff textconv, a
 * clean/smudge filter) never runs it while Mosaic creates, diffs, snapshots
 * or removes worktrees. Each program writes a marker file that must not appear.
 */
describe("Mosaic's own git runs nothing a repository planted", () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  let marker: (name: string) => string;

  beforeAll(async () => {
    repo = await makeTempRepo({ files: { 'data.txt': 'one\n' } });
    marker = (name) => join(repo.path, '..', `planted-${name}`);
    const gitDir = join(repo.path, '.git');
    writeFileSync(join(repo.path, '.gitattributes'), '*.txt diff=planted filter=planted\n');
    git(repo.path, 'add', '.gitattributes');
    git(repo.path, 'commit', '-qm', 'attributes');
    git(repo.path, 'config', 'core.fsmonitor', `touch ${marker('fsmonitor')}; true`);
    git(repo.path, 'config', 'diff.planted.textconv', `touch ${marker('textconv')}; cat`);
    git(repo.path, 'config', 'filter.planted.clean', `touch ${marker('clean')}; cat`);
    git(repo.path, 'config', 'filter.planted.smudge', `touch ${marker('smudge')}; cat`);
    for (const hook of ['post-checkout', 'pre-commit', 'reference-transaction', 'post-index-change']) {
      writeFileSync(join(gitDir, 'hooks', hook), `#!/bin/sh\ntouch ${marker(hook)}\n`);
      chmodSync(join(gitDir, 'hooks', hook), 0o755);
    }
    t = await startTestInstance({ killGraceMs: 300 });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  it('no marker appears through create, live diff, snapshot, branch diff and removal', async () => {
    const spawned = await spawnCommand(t, 'echo two >> data.txt && echo new > new.txt && touch ready && while [ ! -f go ]; do sleep 0.05; done');
    const running = await waitForState(t, spawned.id, ['running']);
    await waitFor(() => existsSync(join(running.worktreePath, 'ready')), { timeoutMs: 15_000 });
    const live = await t.api<string>('GET', `/agents/${spawned.id}/diff`);
    expect(live.status).toBe(200);
    expect(live.body).toContain('+two');
    writeFileSync(join(running.worktreePath, 'go'), '');
    const ended = await waitForState(t, spawned.id);
    expect(ended.state).toBe('completed');
    expect(existsSync(ended.worktreePath)).toBe(false);
    const after = await t.api<string>('GET', `/agents/${spawned.id}/diff`);
    expect(after.body).toContain('+two');
    expect(git(repo.path, 'show', `${ended.branch}:new.txt`)).toBe('new');

    const planted = ['clean', 'fsmonitor', 'textconv', 'smudge', 'post-checkout', 'pre-commit', 'reference-transaction', 'post-index-change'];
    expect(planted.filter((name) => existsSync(marker(name)))).toEqual([]);
    // The programs do run when git is not told otherwise: the markers are real.
    git(repo.path, 'status', '--short');
    expect(existsSync(marker('fsmonitor'))).toBe(true);
  });
});
