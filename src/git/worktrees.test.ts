import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MosaicError } from '../core/errors.js';
import { managedRoot } from './paths.js';
import { branchExists } from './repo.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { WorktreeManager } from './worktrees.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof MosaicError) return `${err.status}:${err.code}`;
    throw err;
  }
  throw new Error('expected a MosaicError');
}

describe('WorktreeManager', () => {
  let repo: TestRepo;
  let manager: WorktreeManager;

  beforeEach(() => {
    repo = makeTestRepo();
    manager = new WorktreeManager();
  });
  afterEach(() => repo.cleanup());

  it('creates a worktree on a new branch from the base', async () => {
    const head = repo.git(['rev-parse', 'HEAD']).trim();
    const created = await manager.create({ repoPath: repo.path, name: 'agent-a-t1', branch: 'agent-a-t1', baseBranch: 'main' });
    expect(created).toEqual({ path: join(`${repo.path}_worktrees`, 'agent-a-t1'), branch: 'agent-a-t1', baseCommit: head });
    expect(existsSync(join(created.path, 'README.md'))).toBe(true);
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD'], created.path).trim()).toBe('agent-a-t1');
    const listed = await manager.list(repo.path);
    expect(listed.map((e) => e.path)).toEqual([repo.path, created.path]);
    expect(listed[1]?.branch).toBe('agent-a-t1');
  });

  it('runs 20 concurrent creates in one repository without lock failures', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `agent-c${i}-task`);
    const results = await Promise.all(names.map((name) =>
      manager.create({ repoPath: repo.path, name, branch: name, baseBranch: 'main' })));
    expect(results.map((r) => r.branch).sort()).toEqual([...names].sort());
    const listed = await manager.list(repo.path);
    expect(listed).toHaveLength(21);
    for (const name of names) expect(existsSync(join(managedRoot(repo.path), name, 'README.md'))).toBe(true);
  }, 60_000);

  it('runs creates side by side with removes, prunes and the broken-entry sweep of the same repository, none failing or swept', async () => {
    for (let i = 0; i < 120; i++) repo.write(`src/f${i}.txt`, `${i}\n`);
    repo.commitAll('enough files for a parallel checkout');
    const parallel = new WorktreeManager({ parallelAdds: 4 });
    const old = await Promise.all([0, 1, 2].map((i) => parallel.create({ repoPath: repo.path, name: `old-${i}`, branch: `old-${i}`, baseBranch: 'main' })));
    const names = Array.from({ length: 12 }, (_, i) => `agent-p${i}-task`);
    const work: Promise<unknown>[] = names.map((name) => parallel.create({ repoPath: repo.path, name, branch: name, baseBranch: 'main' }));
    work.push(...old.map((w) => parallel.remove(repo.path, w.path)), parallel.prune(repo.path));
    // A half-made `worktree add` looks broken: the sweep, serialized, must never see one in flight.
    for (const name of names.slice(0, 3)) work.push(parallel.pruneBroken(repo.path, name, 'main'));
    const settled = await Promise.allSettled(work);
    expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
    const listed = (await parallel.list(repo.path)).map((e) => e.branch).sort();
    expect(listed).toEqual(['main', ...names].sort());
    for (const name of names) expect(existsSync(join(managedRoot(repo.path), name, 'src', 'f119.txt'))).toBe(true);
  }, 120_000);

  it('refuses an existing branch, an existing directory and an unknown base', async () => {
    await manager.create({ repoPath: repo.path, name: 'one', branch: 'b1', baseBranch: 'main' });
    expect(await codeOf(manager.create({ repoPath: repo.path, name: 'two', branch: 'b1', baseBranch: 'main' }))).toBe('409:branch_exists');
    expect(await codeOf(manager.create({ repoPath: repo.path, name: 'one', branch: 'b2', baseBranch: 'main' }))).toBe('409:worktree_exists');
    expect(await codeOf(manager.create({ repoPath: repo.path, name: 'three', branch: 'b3', baseBranch: 'nope' }))).toBe('400:unknown_base_branch');
    // None of the refused calls left a branch or directory behind.
    expect(await branchExists(repo.path, 'b2')).toBe(false);
    expect(await branchExists(repo.path, 'b3')).toBe(false);
    expect(readdirSync(managedRoot(repo.path))).toEqual(['one']);
  });

  it('rejects option injection and path escapes before git runs, creating nothing outside the root', async () => {
    const before = readdirSync(repo.dir).sort();
    const base = { repoPath: repo.path, name: 'ok', branch: 'ok', baseBranch: 'main' };
    expect(await codeOf(manager.create({ ...base, baseBranch: '--upload-pack=x' }))).toBe('400:invalid_base_branch');
    expect(await codeOf(manager.create({ ...base, baseBranch: '-b' }))).toBe('400:invalid_base_branch');
    expect(await codeOf(manager.create({ ...base, baseBranch: 'main..x' }))).toBe('400:invalid_base_branch');
    expect(await codeOf(manager.create({ ...base, branch: '--upload-pack=x' }))).toBe('400:invalid_branch');
    expect(await codeOf(manager.create({ ...base, branch: '-b' }))).toBe('400:invalid_branch');
    expect(await codeOf(manager.create({ ...base, branch: 'a b' }))).toBe('400:invalid_branch');
    expect(await codeOf(manager.create({ ...base, name: '../x' }))).toBe('400:invalid_worktree_name');
    expect(await codeOf(manager.create({ ...base, name: 'a/..' }))).toBe('400:invalid_worktree_name');
    expect(await codeOf(manager.create({ ...base, name: 'a/../../x' }))).toBe('400:invalid_worktree_name');
    expect(await codeOf(manager.create({ ...base, name: '-b' }))).toBe('400:invalid_worktree_name');
    expect(await codeOf(manager.create({ ...base, name: '/tmp/x' }))).toBe('400:invalid_worktree_name');
    expect(readdirSync(repo.dir).sort()).toEqual(before);
    expect(repo.git(['branch', '--format=%(refname:short)']).trim()).toBe('main');
  });

  it('cleans up the directory and branch when worktree add fails after creating them', async () => {
    // A base commit whose blob is gone: git makes the branch and the directory, then fails to check out.
    // (A failing post-checkout hook used to do this; Mosaic's git no longer runs hooks.)
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo.path, input: 'lost\n' }).toString().trim();
    const tree = execFileSync('git', ['mktree'], { cwd: repo.path, input: `100644 blob ${blob}\tlost.txt\n` }).toString().trim();
    const commit = execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit-tree', tree, '-m', 'broken'], { cwd: repo.path }).toString().trim();
    repo.git(['branch', 'broken', commit]);
    rmSync(join(repo.path, '.git', 'objects', blob.slice(0, 2), blob.slice(2)));
    await expect(manager.create({ repoPath: repo.path, name: 'hooked', branch: 'hooked', baseBranch: 'broken' })).rejects.toThrow(/failed|unable|object/);
    expect(existsSync(join(managedRoot(repo.path), 'hooked'))).toBe(false);
    expect(await branchExists(repo.path, 'hooked')).toBe(false);
    expect(await manager.list(repo.path)).toHaveLength(1);
  });

  it('refuses a path that is not a repository top level', async () => {
    mkdirSync(join(repo.path, 'sub'));
    expect(await codeOf(manager.create({ repoPath: join(repo.path, 'sub'), name: 'x', branch: 'x', baseBranch: 'main' })))
      .toBe('400:not_a_git_repo');
    expect(existsSync(join(repo.path, 'sub_worktrees'))).toBe(false);
  });

  it('retries while another process holds the branch ref lock', async () => {
    const lock = join(repo.path, '.git', 'refs', 'heads', 'contended.lock');
    writeFileSync(lock, '');
    const released = new Promise<void>((resolve) => setTimeout(() => {
      rmSync(lock);
      resolve();
    }, 300));
    // More attempts than the default so the backoff surely outlasts the held lock.
    const patient = new WorktreeManager({ lockAttempts: 10 });
    const created = await patient.create({ repoPath: repo.path, name: 'contended', branch: 'contended', baseBranch: 'main' });
    await released;
    expect(existsSync(join(created.path, 'README.md'))).toBe(true);
    expect(await branchExists(repo.path, 'contended')).toBe(true);
  });

  it('recovers a path registered to a worktree whose directory was deleted by hand', async () => {
    const first = await manager.create({ repoPath: repo.path, name: 'wt', branch: 'first', baseBranch: 'main' });
    rmSync(first.path, { recursive: true, force: true });
    const second = await manager.create({ repoPath: repo.path, name: 'wt', branch: 'second', baseBranch: 'main' });
    expect(second.path).toBe(first.path);
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD'], second.path).trim()).toBe('second');
  });

  it('removes a worktree so that no directory is left and list no longer shows it', async () => {
    const created = await manager.create({ repoPath: repo.path, name: 'gone', branch: 'gone', baseBranch: 'main' });
    writeFileSync(join(created.path, 'dirty.txt'), 'x');
    await manager.remove(repo.path, created.path);
    expect(existsSync(created.path)).toBe(false);
    expect((await manager.list(repo.path)).map((e) => e.path)).toEqual([repo.path]);
    expect(await branchExists(repo.path, 'gone')).toBe(true); // branches stay until discarded
    await manager.remove(repo.path, created.path); // idempotent
  });

  it('removes by renaming into .trash: the registration goes at once, the files through discard, leftovers on the next removal', async () => {
    const discarded: string[] = [];
    const fast = new WorktreeManager({ discard: (path) => discarded.push(path) });
    const created = await fast.create({ repoPath: repo.path, name: 'quick', branch: 'quick', baseBranch: 'main' });
    writeFileSync(join(created.path, 'dirty.txt'), 'x');
    await fast.remove(repo.path, created.path);
    expect(existsSync(created.path)).toBe(false);
    expect(existsSync(join(repo.path, '.git', 'worktrees', 'quick'))).toBe(false);
    expect((await fast.list(repo.path)).map((e) => e.path)).toEqual([repo.path]);
    expect(repo.git(['worktree', 'list', '--porcelain'])).not.toContain('prunable');
    expect(await branchExists(repo.path, 'quick')).toBe(true);
    expect(discarded).toHaveLength(1);
    const trash = discarded[0] as string;
    expect(trash.startsWith(join(managedRoot(repo.path), '.trash', 'quick-'))).toBe(true);
    expect(existsSync(join(trash, 'dirty.txt'))).toBe(true); // not deleted yet: that is discard's job
    // A removal in a later process (a restart) also deletes what an earlier one left in the trash; one in the same process does not start it twice.
    const sameProcess = await fast.create({ repoPath: repo.path, name: 'same-process', branch: 'same-process', baseBranch: 'main' });
    await fast.remove(repo.path, sameProcess.path);
    expect(discarded).toHaveLength(2);
    const laterDiscarded: string[] = [];
    const later = new WorktreeManager({ discard: (path) => laterDiscarded.push(path) });
    const next = await later.create({ repoPath: repo.path, name: 'next', branch: 'next', baseBranch: 'main' });
    await later.remove(repo.path, next.path);
    expect(laterDiscarded).toHaveLength(3);
    expect(laterDiscarded).toContain(trash);
    // The default discard deletes the files in the background.
    const third = await manager.create({ repoPath: repo.path, name: 'third', branch: 'third', baseBranch: 'main' });
    await manager.remove(repo.path, third.path);
    for (let i = 0; i < 100 && readdirSync(join(managedRoot(repo.path), '.trash')).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(join(managedRoot(repo.path), '.trash'))).toEqual([]);
  });

  it('finds a registration under another name (a handed-over pooled worktree, a name taken first) and leaves the other worktree alone', async () => {
    const discarded: string[] = [];
    const fast = new WorktreeManager({ discard: (path) => discarded.push(path) });
    const elsewhere = join(repo.dir, 'elsewhere', 'same');
    repo.git(['worktree', 'add', '-q', '-b', 'elsewhere', elsewhere, 'main']);
    const created = await fast.create({ repoPath: repo.path, name: 'same', branch: 'same', baseBranch: 'main' });
    const pooled = await fast.create({ repoPath: repo.path, name: 'pool-abcd', branch: 'moved', baseBranch: 'main' });
    const moved = join(managedRoot(repo.path), 'agent-moved');
    repo.git(['worktree', 'move', pooled.path, moved]);
    await fast.remove(repo.path, created.path);
    await fast.remove(repo.path, moved);
    expect(discarded).toHaveLength(2);
    expect(existsSync(created.path)).toBe(false);
    expect(existsSync(moved)).toBe(false);
    expect(existsSync(join(elsewhere, 'README.md'))).toBe(true);
    expect((await fast.list(repo.path)).map((e) => e.path)).toEqual([repo.path, elsewhere]);
    expect(repo.git(['worktree', 'list', '--porcelain'])).not.toContain('prunable');
  });

  it('removes half-deleted and locked worktrees through the fallback', async () => {
    const half = await manager.create({ repoPath: repo.path, name: 'half', branch: 'half', baseBranch: 'main' });
    rmSync(join(half.path, '.git'));
    const locked = await manager.create({ repoPath: repo.path, name: 'locked', branch: 'locked', baseBranch: 'main' });
    repo.git(['worktree', 'lock', '--reason', 'test', locked.path]);
    await manager.remove(repo.path, half.path);
    await manager.remove(repo.path, locked.path);
    expect(existsSync(half.path)).toBe(false);
    expect(existsSync(locked.path)).toBe(false);
    expect((await manager.list(repo.path)).map((e) => e.path)).toEqual([repo.path]);
  });

  it('never removes anything outside the managed root', async () => {
    const outside = join(repo.dir, 'precious');
    mkdirSync(outside);
    expect(await codeOf(manager.remove(repo.path, outside))).toBe('400:path_outside_root');
    expect(await codeOf(manager.remove(repo.path, repo.path))).toBe('400:path_outside_root');
    expect(await codeOf(manager.remove(repo.path, managedRoot(repo.path)))).toBe('400:path_outside_root');
    expect(await codeOf(manager.remove(repo.path, join(managedRoot(repo.path), '..', 'precious')))).toBe('400:path_outside_root');
    const created = await manager.create({ repoPath: repo.path, name: 'keep', branch: 'keep', baseBranch: 'main' });
    expect(await codeOf(manager.remove(repo.path, join(created.path, 'src')))).toBe('400:path_outside_root');
    expect(existsSync(join(created.path, 'README.md'))).toBe(true);
    expect(existsSync(outside)).toBe(true);
    expect(existsSync(join(repo.path, 'README.md'))).toBe(true);
  });

  it('prunes registrations of deleted worktrees', async () => {
    const created = await manager.create({ repoPath: repo.path, name: 'p', branch: 'p', baseBranch: 'main' });
    rmSync(created.path, { recursive: true, force: true });
    expect((await manager.list(repo.path))[1]?.prunable).toBe(true);
    await manager.prune(repo.path);
    expect(await manager.list(repo.path)).toHaveLength(1);
  });

  it('deletes a branch once its worktree is gone, and reports a missing one', async () => {
    const created = await manager.create({ repoPath: repo.path, name: 'd', branch: 'd', baseBranch: 'main' });
    expect(await codeOf(manager.deleteBranch(repo.path, 'd'))).toBe('409:branch_checked_out');
    await manager.remove(repo.path, created.path);
    expect(await manager.deleteBranch(repo.path, 'd')).toBe(true);
    expect(await manager.deleteBranch(repo.path, 'd')).toBe(false);
    expect(await branchExists(repo.path, 'd')).toBe(false);
  });
});
