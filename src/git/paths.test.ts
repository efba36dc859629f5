import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertInside, isInside, managedRoot, resolveReal, worktreePathFor } from './paths.js';

describe('paths', () => {
  let dir: string;
  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'mosaic-paths-')));
    mkdirSync(join(dir, 'repo'));
    mkdirSync(join(dir, 'repo_worktrees', 'wt'), { recursive: true });
    mkdirSync(join(dir, 'outside'));
    symlinkSync(join(dir, 'outside'), join(dir, 'repo_worktrees', 'escape'));
    symlinkSync(join(dir, 'repo'), join(dir, 'link-to-repo'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the managed root beside the real repository path', () => {
    expect(managedRoot(join(dir, 'repo'))).toBe(join(dir, 'repo_worktrees'));
    expect(managedRoot(`${join(dir, 'repo')}/`)).toBe(join(dir, 'repo_worktrees'));
    expect(managedRoot(join(dir, 'link-to-repo'))).toBe(join(dir, 'repo_worktrees'));
  });

  it('accepts paths strictly inside the root, existing or not', () => {
    const root = join(dir, 'repo_worktrees');
    expect(assertInside(root, join(root, 'wt'))).toBe(join(root, 'wt'));
    expect(assertInside(root, join(root, 'new', 'deeper'))).toBe(join(root, 'new', 'deeper'));
    expect(assertInside(root, join(root, '..foo'))).toBe(join(root, '..foo'));
  });

  it('refuses the root itself, parents, siblings with a common prefix and symlink escapes', () => {
    const root = join(dir, 'repo_worktrees');
    for (const candidate of [root, `${root}/`, join(root, '..'), join(root, 'wt', '..', '..', 'outside'),
      join(dir, 'repo_worktrees2'), join(dir, 'repo'), join(root, 'escape'), join(root, 'escape', 'not-yet')]) {
      expect(() => assertInside(root, candidate), candidate).toThrow(expect.objectContaining({ status: 400, code: 'path_outside_root' }));
      expect(isInside(root, candidate)).toBe(false);
    }
  });

  it('resolves symlinked ancestors of paths that do not exist yet', () => {
    expect(resolveReal(join(dir, 'link-to-repo', 'a', 'b'))).toBe(join(dir, 'repo', 'a', 'b'));
  });

  it('builds worktree paths from safe names only', () => {
    expect(worktreePathFor(join(dir, 'repo'), 'agent-x-t')).toBe(join(dir, 'repo_worktrees', 'agent-x-t'));
    for (const name of ['../x', 'a/b', 'a/..', '..', '.hidden', '-b', '', 'x'.repeat(65), 'a b']) {
      expect(() => worktreePathFor(join(dir, 'repo'), name), name).toThrow(expect.objectContaining({ code: 'invalid_worktree_name' }));
    }
  });
});
