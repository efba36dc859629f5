import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { WorktreeManager } from './worktrees.js';

describe('diff and summary', () => {
  let repo: TestRepo;
  const manager = new WorktreeManager();
  let snapshot: string | null;

  beforeAll(async () => {
    repo = makeTestRepo();
    const wt = (await manager.create({ repoPath: repo.path, name: 'agent-d', branch: 'agent-d', baseBranch: 'main' })).path;
    repo.write('feature.ts', 'export const feature = 1;\n', wt);
    writeFileSync(join(wt, 'logo.bin'), Buffer.from([0, 1, 2, 3, 255, 0, 7]));
    repo.commitAll('agent commit', wt);
    repo.write('notes.md', 'left uncommitted\n', wt);
    snapshot = await manager.snapshot(wt, 'mosaic: snapshot');
    await manager.remove(repo.path, wt);
    // main moves on after the fork: none of this may show up in the agent's diff.
    repo.write('main-only.txt', 'main\n');
    repo.commitAll('main moves on');
  });
  afterAll(() => repo.cleanup());

  it('shows the agent commit, the snapshot and a binary notice, not later base commits', async () => {
    expect(snapshot).not.toBeNull();
    const diff = await manager.diff(repo.path, 'main', 'agent-d');
    expect(diff).toContain('diff --git a/feature.ts b/feature.ts');
    expect(diff).toContain('+export const feature = 1;');
    expect(diff).toContain('+left uncommitted');
    expect(diff).toMatch(/Binary files \/dev\/null and b\/logo.bin differ/);
    expect(diff).not.toContain('main-only.txt');
  });

  it('counts commits ahead and files changed since the fork', async () => {
    expect(await manager.summary(repo.path, 'main', 'agent-d')).toEqual({ commitsAhead: 2, filesChanged: 3 });
    expect(await manager.summary(repo.path, 'main', 'main')).toEqual({ commitsAhead: 0, filesChanged: 0 });
  });

  it('rejects refs that could be options and reports unknown ones', async () => {
    await expect(manager.diff(repo.path, '--output=/tmp/x', 'agent-d')).rejects.toMatchObject({ status: 400, code: 'invalid_base_ref' });
    await expect(manager.summary(repo.path, 'main', '-p')).rejects.toMatchObject({ status: 400, code: 'invalid_branch' });
    await expect(manager.diff(repo.path, 'main', 'no-such-branch')).rejects.toMatchObject({ status: 404, code: 'unknown_ref' });
  });
});
