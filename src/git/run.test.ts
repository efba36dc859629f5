import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitError, isLockError, runGit, sanitizedEnv, withLockRetry } from './run.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { execFileSync } from 'node:child_process';

describe('runGit', () => {
  let repo: TestRepo;
  beforeAll(() => {
    repo = makeTestRepo();
  });
  afterAll(() => repo.cleanup());

  it('drops inherited repository variables and forces parseable, prompt-free output', () => {
    const env = sanitizedEnv({ GIT_DIR: '/x', GIT_WORK_TREE: '/y', GIT_INDEX_FILE: '/z', GIT_AUTHOR_NAME: 'n',
      GIT_CONFIG_PARAMETERS: "'core.pager'='evil'", GIT_CONFIG_GLOBAL: '/g', LANG: 'de_DE.UTF-8', LC_MESSAGES: 'de_DE', PATH: '/bin' });
    expect(env).toMatchObject({ GIT_CONFIG_GLOBAL: '/g', PATH: '/bin', LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' });
    for (const key of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_AUTHOR_NAME', 'GIT_CONFIG_PARAMETERS', 'LANG', 'LC_MESSAGES']) {
      expect(env[key], key).toBeUndefined();
    }
  });

  it('acts on the cwd repository even when the parent has GIT_DIR set', async () => {
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = '/nonexistent/.git';
    try {
      const { stdout } = await runGit(repo.path, ['rev-parse', '--show-toplevel']);
      expect(stdout.trim()).toBe(repo.path);
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });

  it('passes input on stdin and raises a typed error with exit code and stderr', async () => {
    const { stdout } = await runGit(repo.path, ['hash-object', '--stdin'], { input: 'hello\n' });
    expect(stdout.trim()).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    const err = await runGit(repo.path, ['rev-parse', '--verify', 'no-such-ref']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect(err).toMatchObject({ exitCode: 128, args: ['rev-parse', '--verify', 'no-such-ref'] });
    expect((err as GitError).stderr).toMatch(/fatal: Needed a single revision/);
  });

  it('reports a missing working directory rather than a missing git', async () => {
    const err = await runGit(join(repo.dir, 'missing'), ['status']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).message).toMatch(/does not exist/);
  });

  it('times out and flags output that is too large', async () => {
    const slow = await runGit(repo.path, ['hash-object', '--stdin'], { timeoutMs: 1, input: 'x' }).catch((e: unknown) => e);
    // Either git finished within 1 ms or it was killed and flagged; the flag must match the outcome.
    if (slow instanceof GitError) expect(slow.timedOut).toBe(true);
    const big = await runGit(repo.path, ['log', '-p'], { maxBuffer: 10 }).catch((e: unknown) => e);
    expect(big).toMatchObject({ tooLarge: true });
  });

  it('retries while another process holds index.lock, then succeeds', async () => {
    const lock = join(repo.path, '.git', 'index.lock');
    writeFileSync(lock, '');
    writeFileSync(join(repo.path, 'file.txt'), 'x');
    const first = await runGit(repo.path, ['add', 'file.txt']).catch((e: unknown) => e);
    expect(isLockError(first)).toBe(true);
    let attempts = 0;
    const result = withLockRetry(async () => {
      attempts++;
      if (attempts === 2) rmSync(lock);
      return runGit(repo.path, ['add', 'file.txt']);
    }, { baseDelayMs: 5 });
    await result;
    expect(attempts).toBe(2);
    expect(existsSync(lock)).toBe(false);
    expect((await runGit(repo.path, ['diff', '--cached', '--name-only'])).stdout.trim()).toBe('file.txt');
  });

  it('does not retry other failures', async () => {
    let attempts = 0;
    await expect(withLockRetry(async () => {
      attempts++;
      return runGit(repo.path, ['rev-parse', '--verify', 'nope']);
    }, { baseDelayMs: 1 })).rejects.toBeInstanceOf(GitError);
    expect(attempts).toBe(1);
  });

  it('never runs a planted clean filter, even from write-tree re-reading a racily clean entry', async () => {
    const planted = makeTestRepo();
    try {
      const marker = join(planted.dir, 'clean-ran');
      planted.write('.gitattributes', '*.txt filter=planted\n');
      planted.git(['config', 'filter.planted.clean', `touch ${marker}; cat`]);
      planted.write('data.txt', 'one\n');
      // A modification time ahead of the index's makes the entry "racily clean": git re-reads
      // its content, through the clean filter, whenever it writes that index again.
      const later = Date.now() / 1000 + 3600;
      utimesSync(join(planted.path, 'data.txt'), later, later);
      const index = join(planted.dir, 'racy.index');
      const env = { GIT_INDEX_FILE: index };
      await runGit(planted.path, ['add', '-A'], { env });
      await runGit(planted.path, ['write-tree'], { env });
      await runGit(planted.path, ['status', '--porcelain'], { env });
      expect(existsSync(marker)).toBe(false);
      // The same write-tree without Mosaic's guard does run it: the scenario is real.
      const unguarded = join(planted.dir, 'unguarded.index');
      await runGit(planted.path, ['add', '-A'], { env: { GIT_INDEX_FILE: unguarded } });
      expect(existsSync(marker)).toBe(false);
      execFileSync('git', ['write-tree'], { cwd: planted.path, env: { ...process.env, GIT_INDEX_FILE: unguarded }, stdio: 'ignore' });
      expect(existsSync(marker)).toBe(true);
    } finally {
      planted.cleanup();
    }
  });
});
