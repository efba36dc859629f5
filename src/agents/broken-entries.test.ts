import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWorktrees } from '../cli/checks.js';
import { git, makeTempRepo, plantHalfMadeEntry } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import type { ReconcileReport, WorktreeView } from './reconciler.js';

/**
 * Issue 17: broken `.git/worktrees/*` entries (what a crash in the middle of
 * `git worktree add` leaves) are listed as broken, warned about by doctor,
 * and at reconciliation and start-up salvaged and pruned — also when their
 * directory still exists, which `git worktree prune` never removes.
 */
describe('broken worktree entries', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  const worktrees = async (): Promise<WorktreeView[]> => (await t.api<{ worktrees: WorktreeView[] }>('GET', '/worktrees')).body.worktrees;
  const revListAll = (): boolean => {
    try {
      git(repo.path, 'rev-list', '--all');
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    repo = await makeTempRepo();
    t = await startTestInstance({ sandbox: 'off' });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  it('lists them as broken, doctor warns, reconciliation saves what they hold and prunes them', async () => {
    git(repo.path, 'branch', 'agent-half-a', 'main');
    const a = plantHalfMadeEntry(repo.path, 'agent-half-a');
    writeFileSync(join(a.dir, 'work.txt'), 'worth keeping\n');
    const b = plantHalfMadeEntry(repo.path, 'agent-half-b', { locked: true }); // git's lock, just now: maybe another instance's add
    const c = plantHalfMadeEntry(repo.path, 'agent-half-c', { locked: true, lockAgeMs: 5 * 60_000 });
    rmSync(join(c.entry, 'gitdir')); // nothing says where it is
    expect(revListAll()).toBe(false); // what they break: every whole-repository git command

    const listed = await worktrees();
    for (const path of [a.dir, b.dir, c.entry]) {
      expect(listed).toContainEqual(expect.objectContaining({ path, broken: expect.stringMatching(/HEAD|gitdir/) }));
    }
    const [doctor] = await checkWorktrees({ home: t.home, url: t.url, token: t.adminToken, env: {} });
    expect(doctor).toMatchObject({ name: 'worktrees', status: 'warn' });
    expect(doctor!.detail).toContain(a.dir);

    let report = (await t.api<ReconcileReport>('POST', '/worktrees/reconcile')).body;
    expect(report.errors).toEqual([]);
    expect(report.removed.map((v) => v.path).sort()).toEqual([a.dir, c.entry].sort());
    expect(report.kept.map((v) => v.path)).toContain(b.dir);
    for (const gone of [a.entry, a.dir, c.entry]) expect(existsSync(gone)).toBe(false);
    expect(existsSync(b.entry)).toBe(true);
    // What the half-made directory held beyond its branch is kept.
    const saved = git(repo.path, 'for-each-ref', '--format=%(refname)', 'refs/mosaic/snapshots/agent-half-a/');
    expect(saved).not.toBe('');
    expect(git(repo.path, 'show', `${saved.split('\n')[0]}:work.txt`)).toBe('worth keeping');

    // Once git's lock is old, nobody is creating it: pruned too.
    rmSync(join(b.entry, 'locked'));
    plantHalfMadeEntry(repo.path, 'agent-half-b', { locked: true, lockAgeMs: 5 * 60_000 });
    report = (await t.api<ReconcileReport>('POST', '/worktrees/reconcile')).body;
    expect(report.removed.map((v) => v.path)).toEqual([b.dir]);
    expect(existsSync(b.entry) || existsSync(b.dir)).toBe(false);
    expect(revListAll()).toBe(true);
    expect((await worktrees()).filter((v) => v.broken !== undefined)).toEqual([]);
    expect((await checkWorktrees({ home: t.home, url: t.url, token: t.adminToken, env: {} }))[0]?.status).toBe('ok');
  }, 60_000);

  it('are pruned at start-up', async () => {
    await t.stop(true);
    const d = plantHalfMadeEntry(repo.path, 'agent-half-d', { locked: true, lockAgeMs: 5 * 60_000 });
    // Without a `.git` file in the directory git cannot find it: still pruned.
    const e = plantHalfMadeEntry(repo.path, 'agent-half-e');
    rmSync(join(e.dir, '.git'));
    t = await startTestInstance({ sandbox: 'off' }, t.home);
    for (const gone of [d.entry, d.dir, e.entry, e.dir]) expect(existsSync(gone), gone).toBe(false);
    expect(revListAll()).toBe(true);
  }, 60_000);
});
