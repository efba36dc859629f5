import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
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
    for (const bad of ['../secret', 'a/../../secret', '/etc/passwd', join(repo.dir, 'secret'), '', '.', './', '.git/config', 'sub/.git/config', '.GIT/hooks/pre-commit', 'C:\\x']) {
      await expect(manager.copyFiles(repo.path, wt, ['.env', bad]), bad).rejects.toMatchObject({ status: 400, code: 'invalid_copy_file' });
    }
    expect(existsSync(join(wt, '.env'))).toBe(false);
    expect(existsSync(join(wt, 'secret'))).toBe(false);
  });

  it('rejects a symlink in the main checkout, inside or outside the repository', async () => {
    writeFileSync(join(repo.dir, 'secret'), 'outside');
    writeFileSync(join(repo.path, 'real.env'), 'inside');
    symlinkSync(join(repo.dir, 'secret'), join(repo.path, '.env'));
    symlinkSync(repo.dir, join(repo.path, 'up'));
    symlinkSync(join(repo.path, 'real.env'), join(repo.path, 'alias.env'));
    for (const entry of ['.env', 'up/secret', 'alias.env']) {
      await expect(manager.copyFiles(repo.path, wt, [entry]), entry).rejects.toMatchObject({ status: 400, code: 'copy_file_symlink' });
    }
    expect(existsSync(join(wt, '.env'))).toBe(false);
  });

  it('rejects a destination that a symlink in the worktree points outside it', async () => {
    const outside = join(repo.dir, 'outside-target');
    mkdirSync(outside);
    symlinkSync(outside, join(wt, 'conf'));
    mkdirSync(join(repo.path, 'conf'));
    writeFileSync(join(repo.path, 'conf', 'x.env'), 'x');
    await expect(manager.copyFiles(repo.path, wt, ['conf/x.env'])).rejects.toMatchObject({ code: 'copy_file_symlink' });
    await expect(manager.copyFiles(repo.path, wt, ['conf'])).rejects.toMatchObject({ code: 'copy_file_symlink' });
    expect(existsSync(join(outside, 'x.env'))).toBe(false);
  });

  /** Issue 7, must-hold 5: a base branch that makes `.env` (or a directory on the way) a symlink, dangling or not. */
  it('refuses when the base branch makes the destination or a directory on the way a symlink, dangling or not', async () => {
    const outside = join(repo.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'existing'), 'keep');
    symlinkSync(join(outside, 'planted-by-dangling'), join(repo.path, '.env')); // dangling
    symlinkSync(join(outside, 'existing'), join(repo.path, 'live.env'));
    symlinkSync(outside, join(repo.path, 'cfg'));
    repo.git(['add', '.env', 'live.env', 'cfg']);
    repo.git(['commit', '-q', '--no-verify', '-m', 'links']);
    repo.git(['branch', '-f', 'linked']);
    // The main checkout holds real files at those paths (untracked copies of the secrets).
    for (const f of ['.env', 'live.env', 'cfg']) rmSync(join(repo.path, f));
    writeFileSync(join(repo.path, '.env'), 'SECRET=1\n');
    writeFileSync(join(repo.path, 'live.env'), 'SECRET=2\n');
    mkdirSync(join(repo.path, 'cfg'));
    writeFileSync(join(repo.path, 'cfg', 'local.json'), '{}');
    const linked = (await manager.create({ repoPath: repo.path, name: 'agent-l', branch: 'agent-l', baseBranch: 'linked' })).path;
    for (const entry of ['.env', 'live.env', 'cfg/local.json', 'cfg']) {
      await expect(manager.copyFiles(repo.path, linked, [entry]), entry).rejects.toMatchObject({ status: 400, code: 'copy_file_symlink' });
    }
    expect(readdirSync(outside)).toEqual(['existing']);
    expect(readFileSync(join(outside, 'existing'), 'utf8')).toBe('keep');
  });

  it('skips symlinks inside a copied directory instead of following them', async () => {
    mkdirSync(join(repo.path, 'config'));
    writeFileSync(join(repo.path, 'config', 'a.json'), '{}');
    writeFileSync(join(repo.dir, 'secret'), 'outside');
    symlinkSync(join(repo.dir, 'secret'), join(repo.path, 'config', 'leak'));
    expect(await manager.copyFiles(repo.path, wt, ['config'])).toEqual(['config']);
    expect(existsSync(join(wt, 'config', 'a.json'))).toBe(true);
    expect(existsSync(join(wt, 'config', 'leak'))).toBe(false);
  });

  it('only copies into worktrees inside the managed root', async () => {
    writeFileSync(join(repo.path, '.env'), 'x');
    const elsewhere = join(repo.dir, 'elsewhere');
    mkdirSync(elsewhere);
    await expect(manager.copyFiles(repo.path, elsewhere, ['.env'])).rejects.toMatchObject({ code: 'path_outside_root' });
    expect(existsSync(join(elsewhere, '.env'))).toBe(false);
  });
});
