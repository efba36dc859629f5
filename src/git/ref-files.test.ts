import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localBranchOnDisk } from './ref-files.js';
import { branchExists } from './repo.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';

describe('local branches read from the ref files', () => {
  let repo: TestRepo;
  beforeEach(() => { repo = makeTestRepo(); });
  afterEach(() => repo.cleanup());

  it('finds loose and packed branches and misses absent ones, as git does', async () => {
    repo.git(['branch', 'loose']);
    repo.git(['branch', 'feature/packed']);
    repo.git(['pack-refs', '--all']);
    repo.git(['branch', 'after-pack']);
    for (const [name, expected] of [['loose', 'present'], ['feature/packed', 'present'], ['after-pack', 'present'],
      ['main', 'present'], ['nope', 'absent'], ['feature', 'absent'], ['packed', 'absent']] as const) {
      expect(await localBranchOnDisk(repo.path, name), name).toBe(expected);
      // The same answer git gives.
      const git = spawnSync('git', ['show-ref', '--verify', '--quiet', `refs/heads/${name}`], { cwd: repo.path }).status === 0;
      expect(git ? 'present' : 'absent', name).toBe(expected);
    }
    repo.git(['branch', '-D', 'feature/packed']);
    expect(await localBranchOnDisk(repo.path, 'feature/packed')).toBe('absent');
  });

  it('answers unknown for what is not a plain ref file, and branchExists then asks git', async () => {
    const heads = join(repo.path, '.git', 'refs', 'heads');
    repo.git(['branch', 'real']);
    symlinkSync(join(heads, 'real'), join(heads, 'linked'));
    expect(await localBranchOnDisk(repo.path, 'linked')).toBe('unknown');
    mkdirSync(join(heads, 'dir'));
    expect(await localBranchOnDisk(repo.path, 'dir')).toBe('unknown');
    expect(await branchExists(repo.path, 'dir')).toBe(false);
    mkdirSync(join(repo.path, '.git', 'reftable'));
    expect(await localBranchOnDisk(repo.path, 'nope')).toBe('unknown');
    rmSync(join(repo.path, '.git', 'reftable'), { recursive: true });
    writeFileSync(join(repo.path, '.git', 'packed-refs'), '# pack-refs with: peeled fully-peeled sorted \n^abc refs/heads/peeled-only\n');
    expect(await localBranchOnDisk(repo.path, 'peeled-only')).toBe('absent');
  });

  it('answers unknown outside a repository', async () => {
    expect(await localBranchOnDisk(join(repo.dir, 'missing'), 'main')).toBe('unknown');
  });
});
