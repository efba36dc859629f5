import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { WorktreeManager } from './worktrees.js';

describe('copyFiles', () => {
  let repo: TestRepo;
  let wt: string;
  const manager = new WorktreeManager();

  beforeEach(async () => {
    repo = makeTestRepo();
    wt = (await manager.create({ repoPath: repo.path, name: 'agent-c', branch: 'agent-c', baseBranch: 'main' })).path;
  });
  afterEach(() => repo.cleanup());

  it('copies untracked files and directories, skipping missing ones', async () => {
    writeFileSync(join(repo.path, '.env'), 'SECRET=1\n');
    chmodSync(join(repo.path, '.env'), 0o600);
    mkdirSync(join(repo.path, 'config', 'local'), { recursive: true });
    writeFileSync(join(repo.path, 'config', 'local', 'a.json'), '{}');
    const copied = await manager.copyFiles(repo.path, wt, ['.env', './config/local/', 'missing.txt']);
    expect(copied).toEqual(['.env', 'config/local']);
    expect(readFileSync(join(wt, '.env'), 'utf8')).toBe('SECRET=1\n');
    expect(statSync(join(wt, '.env')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(wt, 'config', 'local', 'a.json'), 'utf8')).toBe('{}');
    expect(existsSync(join(wt, 'missing.txt'))).toBe(false);
  });

  it('rejects parent, absolute, empty and .git entries before copying anything', async () => {
    writeFileSync(join(repo.path, '.env'), 'x');
    writeFileSync(join(repo.dir, 'secret'), 'outside');
    for (const bad of ['../secret', 'a/../../secret', '/etc/passwd', join(repo.dir, 'secret'), '', '.', './', '.git/config', 'C:\\x']) {
      await expect(manager.copyFiles(repo.path, wt, ['.env', bad]), bad).rejects.toMatchObject({ status: 400, code: 'invalid_copy_file' });
    }
    expect(existsSync(join(wt, '.env'))).toBe(false);
    expect(existsSync(join(wt, 'secret'))).toBe(false);
  });

  it('rejects a symlink that escapes the repository', async () => {
    writeFileSync(join(repo.dir, 'secret'), 'outside');
    symlinkSync(join(repo.dir, 'secret'), join(repo.path, '.env'));
    symlinkSync(repo.dir, join(repo.path, 'up'));
    await expect(manager.copyFiles(repo.path, wt, ['.env'])).rejects.toMatchObject({ code: 'invalid_copy_file' });
    await expect(manager.copyFiles(repo.path, wt, ['up/secret'])).rejects.toMatchObject({ code: 'invalid_copy_file' });
    expect(existsSync(join(wt, '.env'))).toBe(false);
  });

  it('rejects a destination that a symlink in the worktree points outside it', async () => {
    const outside = join(repo.dir, 'outside-target');
    mkdirSync(outside);
    symlinkSync(outside, join(wt, 'conf'));
    mkdirSync(join(repo.path, 'conf'));
    writeFileSync(join(repo.path, 'conf', 'x.env'), 'x');
    await expect(manager.copyFiles(repo.path, wt, ['conf/x.env'])).rejects.toMatchObject({ code: 'invalid_copy_file' });
    expect(existsSync(join(outside, 'x.env'))).toBe(false);
  });

  it('only copies into worktrees inside the managed root', async () => {
    writeFileSync(join(repo.path, '.env'), 'x');
    const elsewhere = join(repo.dir, 'elsewhere');
    mkdirSync(elsewhere);
    await expect(manager.copyFiles(repo.path, elsewhere, ['.env'])).rejects.toMatchObject({ code: 'path_outside_root' });
    expect(existsSync(join(elsewhere, '.env'))).toBe(false);
  });
});
