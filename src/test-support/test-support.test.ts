import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAKE_CLAUDE_BIN, git, makeTempDir, makeTempRepo, TEST_GIT_USER, waitFor } from './index.js';

describe('makeTempRepo', () => {
  it('creates a repo on main with one commit, a .gitignore, local identity, and cleans up', async () => {
    const repo = await makeTempRepo({ files: { 'src/a.txt': 'a\n' } });
    try {
      expect(git(repo.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
      expect(git(repo.path, 'rev-list', '--count', 'HEAD')).toBe('1');
      expect(git(repo.path, 'ls-files').split('\n').sort()).toEqual(['.gitignore', 'README.md', 'src/a.txt']);
      expect(readFileSync(join(repo.path, '.gitignore'), 'utf8')).toContain('node_modules/');
      expect(git(repo.path, 'config', '--local', 'user.email')).toBe(TEST_GIT_USER.email);
      expect(git(repo.path, 'status', '--porcelain')).toBe('');
    } finally {
      repo.cleanup();
    }
    expect(existsSync(repo.path)).toBe(false);
  });

  it('git() reports the failing command and git\'s message', () => {
    const dir = makeTempDir();
    try {
      expect(() => git(dir.path, 'log')).toThrow(/git log failed in .*not a git repository/i);
    } finally {
      dir.cleanup();
    }
  });
});

describe('waitFor', () => {
  it('resolves with the first non-empty value', async () => {
    let i = 0;
    await expect(waitFor(() => (++i >= 3 ? `done ${i}` : null), { intervalMs: 5 })).resolves.toBe('done 3');
  });

  it('throws a message naming what it waited for and the last error', async () => {
    await expect(waitFor(() => { throw new Error('still booting'); }, { timeoutMs: 60, intervalMs: 10, what: 'the server' }))
      .rejects.toThrow(/timed out after 60 ms waiting for the server \(last error: still booting\)/);
    await expect(waitFor(() => false, { timeoutMs: 30, intervalMs: 10 })).rejects.toThrow(/last value: false/);
  });
});

describe('fake claude binary', () => {
  it('is executable', () => {
    expect(() => accessSync(FAKE_CLAUDE_BIN, constants.X_OK)).not.toThrow();
    expect(readFileSync(FAKE_CLAUDE_BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
