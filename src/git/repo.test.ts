import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branchExists, deleteBranch, inspectRepo, resolveCommit } from './repo.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';

describe('repository inspection', () => {
  let repo: TestRepo;
  let empty: TestRepo;
  let plain: string;
  beforeAll(() => {
    repo = makeTestRepo();
    empty = makeTestRepo({ commit: false });
    plain = realpathSync(mkdtempSync(join(tmpdir(), 'mosaic-plain-')));
  });
  afterAll(() => {
    repo.cleanup();
    empty.cleanup();
    rmSync(plain, { recursive: true, force: true });
  });

  it('returns the real top level and current branch', async () => {
    symlinkSync(repo.path, join(repo.dir, 'alias'));
    expect(await inspectRepo(join(repo.dir, 'alias'))).toEqual({ path: repo.path, currentBranch: 'main' });
  });

  it('refuses non-repositories, subdirectories, linked worktrees and empty repositories', async () => {
    mkdirSync(join(repo.path, 'sub'), { recursive: true });
    repo.git(['worktree', 'add', '-q', '-b', 'linked', join(repo.dir, 'linked'), 'main']);
    await expect(inspectRepo(plain)).rejects.toMatchObject({ status: 400, code: 'not_a_git_repo' });
    await expect(inspectRepo(join(plain, 'missing'))).rejects.toMatchObject({ code: 'not_a_git_repo' });
    await expect(inspectRepo(join(repo.path, 'sub'))).rejects.toMatchObject({ code: 'not_a_git_repo' });
    await expect(inspectRepo(join(repo.path, '.git'))).rejects.toMatchObject({ code: 'not_a_git_repo' });
    await expect(inspectRepo(join(repo.dir, 'linked'))).rejects.toMatchObject({ code: 'not_a_git_repo' });
    await expect(inspectRepo(empty.path)).rejects.toMatchObject({ status: 400, code: 'no_commits' });
  });

  it('reports a detached HEAD as no current branch', async () => {
    const other = makeTestRepo();
    try {
      other.git(['checkout', '-q', '--detach']);
      expect((await inspectRepo(other.path)).currentBranch).toBeNull();
    } finally {
      other.cleanup();
    }
  });

  it('resolves commits and branches, validating names first', async () => {
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    expect(await resolveCommit(repo.path, 'main')).toBe(head);
    expect(await resolveCommit(repo.path, head)).toBe(head);
    expect(await resolveCommit(repo.path, 'nope')).toBeNull();
    await expect(resolveCommit(repo.path, '--all')).rejects.toMatchObject({ code: 'invalid_ref' });
    expect(await branchExists(repo.path, 'main')).toBe(true);
    expect(await branchExists(repo.path, 'nope')).toBe(false);
    await expect(branchExists(repo.path, '-D')).rejects.toMatchObject({ code: 'invalid_branch' });
  });

  it('force-deletes branches, ignoring missing ones', async () => {
    repo.git(['branch', 'doomed']);
    expect(await deleteBranch(repo.path, 'doomed')).toBe(true);
    expect(await branchExists(repo.path, 'doomed')).toBe(false);
    expect(await deleteBranch(repo.path, 'doomed')).toBe(false);
    await expect(deleteBranch(repo.path, '--all')).rejects.toMatchObject({ code: 'invalid_branch' });
    await expect(deleteBranch(repo.path, 'main')).rejects.toMatchObject({ status: 409, code: 'branch_checked_out' });
  });
});
