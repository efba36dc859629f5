import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { listWorktrees, parseWorktreeList } from './list.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';

const SHA = 'a'.repeat(40);

describe('worktree list parsing', () => {
  it('parses every attribute, in newline and NUL form', () => {
    const records = [
      ['worktree /srv/repo', `HEAD ${SHA}`, 'branch refs/heads/main'],
      ['worktree /srv/repo_worktrees/with space', `HEAD ${SHA}`, 'detached', 'locked', 'prunable gitdir file points to non-existent location'],
      ['worktree /srv/repo_worktrees/b', `HEAD ${SHA}`, 'branch refs/heads/feature/x', 'locked being moved'],
      ['worktree /srv/bare.git', 'bare'],
    ];
    const newline = `${records.map((r) => r.join('\n')).join('\n\n')}\n\n`;
    const nul = `${records.map((r) => `${r.join('\0')}\0`).join('\0')}\0`;
    for (const [text, isNul] of [[newline, false], [nul, true]] as const) {
      const entries = parseWorktreeList(text, isNul);
      expect(entries).toHaveLength(4);
      expect(entries[0]).toEqual({ path: '/srv/repo', head: SHA, branch: 'main', bare: false, detached: false, locked: false, prunable: false });
      expect(entries[1]).toMatchObject({ path: '/srv/repo_worktrees/with space', branch: null, detached: true, locked: true, prunable: true,
        prunableReason: 'gitdir file points to non-existent location' });
      expect(entries[1]?.lockedReason).toBeUndefined();
      expect(entries[2]).toMatchObject({ branch: 'feature/x', locked: true, lockedReason: 'being moved', prunable: false });
      expect(entries[3]).toMatchObject({ path: '/srv/bare.git', bare: true, head: null, branch: null });
    }
  });

  it('keeps a path containing a newline with -z output', () => {
    const entries = parseWorktreeList(`worktree /a\nb\0HEAD ${SHA}\0detached\0\0`, true);
    expect(entries).toEqual([{ path: '/a\nb', head: SHA, branch: null, bare: false, detached: true, locked: false, prunable: false }]);
  });
});

describe('listWorktrees', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = makeTestRepo();
  });
  afterAll(() => repo.cleanup());

  it('lists real worktrees whose paths contain spaces', async () => {
    const spaced = join(`${repo.path}_worktrees`, 'with some spaces');
    repo.git(['worktree', 'add', '-q', '-b', 'spaced', spaced, 'main']);
    repo.git(['worktree', 'add', '-q', '--detach', join(`${repo.path}_worktrees`, 'det'), 'main']);
    repo.git(['worktree', 'lock', '--reason', 'busy', spaced]);
    const entries = await listWorktrees(repo.path);
    const det = join(`${repo.path}_worktrees`, 'det');
    expect(entries[0]?.path).toBe(repo.path); // the main worktree always comes first
    expect(entries.map((e) => e.path).sort()).toEqual([repo.path, det, spaced].sort());
    expect(entries.find((e) => e.path === spaced)).toMatchObject({ branch: 'spaced', locked: true, lockedReason: 'busy', detached: false });
    expect(entries.find((e) => e.path === det)).toMatchObject({ branch: null, detached: true });
    expect(entries[0]?.head).toMatch(/^[0-9a-f]{40}$/);
  });
});
