import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { landBranch } from './land.js';
import { WorktreeManager } from './worktrees.js';

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'ok', (err: unknown) => `${(err as { status?: number }).status}:${(err as { code?: string }).code}`);
const errOf = async (p: Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown> }> =>
  p.then(() => ({}), (err: unknown) => err as { code?: string; details?: Record<string, unknown> });

describe('landBranch', () => {
  let repo: TestRepo;
  const rev = (ref: string): string => repo.git(['rev-parse', ref]).trim();
  const status = (cwd = repo.path): string => repo.git(['status', '--porcelain'], cwd);
  /** A branch `name` off main with `files` committed in one or more commits. */
  const branch = (name: string, ...commits: Record<string, string>[]): void => {
    repo.git(['branch', name, 'main']);
    const wt = join(repo.dir, `wt-${name}`);
    repo.git(['worktree', 'add', '-q', wt, name]);
    commits.forEach((files, i) => {
      for (const [file, content] of Object.entries(files)) repo.write(file, content, wt);
      repo.commitAll(`${name} commit ${i + 1}`, wt);
    });
    repo.git(['worktree', 'remove', '--force', wt]);
  };

  beforeEach(() => {
    repo = makeTestRepo();
    repo.write('shared.txt', 'one\ntwo\nthree\n');
    repo.commitAll('shared file');
  });
  afterEach(() => repo.cleanup());

  it('merge: a merge commit with both parents, and the clean checkout of main follows', async () => {
    branch('agent-a', { 'a.txt': 'from a\n' });
    const before = rev('main');
    const result = await landBranch({ repoPath: repo.path, source: 'agent-a', into: 'main', strategy: 'merge', message: 'Land agent a' });
    expect(result).toMatchObject({ into: 'main', strategy: 'merge', previous: before, updatedCheckouts: [repo.path] });
    expect(rev('main')).toBe(result.commit);
    expect(repo.git(['rev-list', '--parents', '-n1', 'main']).trim().split(' ')).toEqual([result.commit, before, rev('agent-a')]);
    expect(repo.git(['log', '-1', '--format=%s', 'main']).trim()).toBe('Land agent a');
    expect(readFileSync(join(repo.path, 'a.txt'), 'utf8')).toBe('from a\n');
    expect(status()).toBe('');
  });

  it('squash: one new commit with the whole change and a single parent', async () => {
    branch('agent-s', { 's1.txt': '1\n' }, { 's2.txt': '2\n' });
    const before = rev('main');
    const result = await landBranch({ repoPath: repo.path, source: 'agent-s', into: 'main', strategy: 'squash', message: 'Squashed s' });
    expect(repo.git(['rev-list', '--parents', '-n1', 'main']).trim().split(' ')).toEqual([result.commit, before]);
    expect(repo.git(['diff', '--name-only', before, 'main']).trim().split('\n').sort()).toEqual(['s1.txt', 's2.txt']);
    expect(existsSync(join(repo.path, 's2.txt'))).toBe(true);
    expect(status()).toBe('');
  });

  it('rebase: each commit replayed on the moved target, author and message kept', async () => {
    branch('agent-r', { 'r1.txt': '1\n' }, { 'r2.txt': '2\n' });
    repo.write('main-only.txt', 'main moved\n');
    const moved = repo.commitAll('main moved');
    const result = await landBranch({ repoPath: repo.path, source: 'agent-r', into: 'main', strategy: 'rebase', message: 'unused' });
    const log = repo.git(['log', '--format=%s|%an|%P', `${moved}..main`]).trim().split('\n');
    expect(log).toHaveLength(2);
    expect(log.map((l) => l.split('|')[0])).toEqual(['agent-r commit 2', 'agent-r commit 1']);
    expect(log.every((l) => l.split('|')[1] === 'Test')).toBe(true);
    expect(log[1]?.split('|')[2]).toBe(moved); // linear on top of the moved main
    expect(rev('main')).toBe(result.commit);
    for (const f of ['r1.txt', 'r2.txt', 'main-only.txt']) expect(existsSync(join(repo.path, f))).toBe(true);
    expect(status()).toBe('');
  });

  it('rebase of a branch main has not moved past is a fast-forward to the same commits', async () => {
    branch('agent-ff', { 'ff.txt': 'x\n' });
    const result = await landBranch({ repoPath: repo.path, source: 'agent-ff', into: 'main', strategy: 'rebase', message: '' });
    expect(result.commit).toBe(rev('agent-ff'));
  });

  it('target_dirty: main checked out with uncommitted changes stays byte-for-byte as it was', async () => {
    branch('agent-d', { 'd.txt': 'd\n' });
    writeFileSync(join(repo.path, 'shared.txt'), 'user edit\n');
    const before = rev('main');
    const beforeStatus = status();
    const err = await errOf(landBranch({ repoPath: repo.path, source: 'agent-d', into: 'main', strategy: 'merge', message: 'm' }));
    expect(err.code).toBe('target_dirty');
    expect(err.details?.paths).toEqual(['shared.txt']);
    expect(rev('main')).toBe(before);
    expect(readFileSync(join(repo.path, 'shared.txt'), 'utf8')).toBe('user edit\n');
    expect(existsSync(join(repo.path, 'd.txt'))).toBe(false);
    expect(status()).toBe(beforeStatus);
  });

  it('land_conflict: exact paths, nothing changes', async () => {
    branch('agent-c1', { 'shared.txt': 'one\nTWO from c1\nthree\n', 'only-c1.txt': 'x\n' });
    repo.write('shared.txt', 'one\nTWO from main\nthree\n');
    const before = repo.commitAll('main edits line two');
    for (const strategy of ['merge', 'squash', 'rebase'] as const) {
      const err = await errOf(landBranch({ repoPath: repo.path, source: 'agent-c1', into: 'main', strategy, message: 'm' }));
      expect(err.code, strategy).toBe('land_conflict');
      expect(err.details?.paths, strategy).toEqual(['shared.txt']);
    }
    expect(rev('main')).toBe(before);
    expect(status()).toBe('');
    expect(readFileSync(join(repo.path, 'shared.txt'), 'utf8')).toBe('one\nTWO from main\nthree\n');
  });

  it('a second land is computed against the first one\'s result, and racing lands both arrive', async () => {
    branch('agent-1', { 'one.txt': '1\n' });
    branch('agent-2', { 'two.txt': '2\n' });
    branch('agent-3', { 'three.txt': '3\n' });
    const manager = new WorktreeManager();
    const first = await manager.land({ repoPath: repo.path, source: 'agent-1', into: 'main', strategy: 'merge', message: 'one' });
    const second = await manager.land({ repoPath: repo.path, source: 'agent-2', into: 'main', strategy: 'squash', message: 'two' });
    expect(second.previous).toBe(first.commit);
    // Racing: both start before either finished; the per-repository queue and the CAS keep both.
    repo.git(['branch', 'agent-4', 'agent-3']);
    const raced = await Promise.allSettled([
      manager.land({ repoPath: repo.path, source: 'agent-3', into: 'main', strategy: 'merge', message: 'three' }),
      manager.land({ repoPath: repo.path, source: 'agent-1', into: 'main', strategy: 'merge', message: 'again' }),
    ]);
    expect(raced[0].status).toBe('fulfilled');
    expect(raced[1].status).toBe('rejected'); // agent-1 is in main already: nothing_to_land, never a lost update
    for (const f of ['one.txt', 'two.txt', 'three.txt']) expect(existsSync(join(repo.path, f))).toBe(true);
    expect(status()).toBe('');
  });

  it('a target moved by another process between compute and update is recomputed, never overwritten', async () => {
    branch('agent-x', { 'x.txt': 'x\n' });
    let moved = '';
    let calls = 0;
    const result = await landBranch({
      repoPath: repo.path, source: 'agent-x', into: 'main', strategy: 'merge', message: 'x',
      beforeUpdate: async () => {
        calls++;
        if (calls > 1) return;
        repo.write('outside.txt', 'another process committed\n');
        moved = repo.commitAll('outside commit');
      },
    });
    expect(calls).toBe(2);
    expect(result.previous).toBe(moved);
    expect(repo.git(['merge-base', '--is-ancestor', moved, 'main']) === '').toBe(true);
    expect(existsSync(join(repo.path, 'x.txt'))).toBe(true);

    // Always moving: a typed retryable 409, and the ref is whatever the other process left.
    branch('agent-y', { 'y.txt': 'y\n' });
    let last = '';
    const err = await errOf(landBranch({
      repoPath: repo.path, source: 'agent-y', into: 'main', strategy: 'merge', message: 'y',
      beforeUpdate: async () => {
        repo.write('outside.txt', `again ${Math.random()}\n`);
        last = repo.commitAll('outside again');
      },
    }));
    expect(err).toMatchObject({ code: 'target_moved', details: { retryable: true } });
    expect(rev('main')).toBe(last);
  });

  it('refuses bad names, a missing target and work already landed', async () => {
    branch('agent-n', { 'n.txt': 'n\n' });
    expect(await codeOf(landBranch({ repoPath: repo.path, source: 'agent-n', into: '-x', strategy: 'merge', message: '' }))).toBe('400:invalid_into');
    expect(await codeOf(landBranch({ repoPath: repo.path, source: 'agent-n', into: 'nope', strategy: 'merge', message: '' }))).toBe('404:branch_not_found');
    await landBranch({ repoPath: repo.path, source: 'agent-n', into: 'main', strategy: 'merge', message: 'n' });
    expect(await codeOf(landBranch({ repoPath: repo.path, source: 'agent-n', into: 'main', strategy: 'squash', message: '' }))).toBe('409:nothing_to_land');
  });

  it('never runs the repository\'s hooks or filters while landing', async () => {
    const marker = join(repo.dir, 'ran');
    repo.write('.gitattributes', '*.txt filter=evil\n');
    repo.commitAll('attributes');
    repo.git(['config', 'filter.evil.smudge', `sh -c 'touch ${marker}; cat'`]);
    repo.git(['config', 'filter.evil.clean', `sh -c 'touch ${marker}; cat'`]);
    repo.git(['config', 'core.hooksPath', join(repo.dir, 'hooks')]);
    repo.write('../hooks/reference-transaction', `#!/bin/sh\ntouch ${marker}\n`);
    repo.git(['update-index', '--refresh']);
    branch('agent-h', { 'h.txt': 'h\n' });
    const { rmSync, chmodSync } = await import('node:fs');
    chmodSync(join(repo.dir, 'hooks', 'reference-transaction'), 0o755);
    rmSync(marker, { force: true });
    await landBranch({ repoPath: repo.path, source: 'agent-h', into: 'main', strategy: 'merge', message: 'h' });
    expect(existsSync(join(repo.path, 'h.txt'))).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });
});
