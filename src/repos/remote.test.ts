import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentLanding, PublicAgent } from '../agents/index.js';
import { cloneRemote, pushRemote, resolveCommit } from '../git/index.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { makeTestRemote, type TestRemote } from '../test-support/remote-repo.js';
import { waitFor } from '../test-support/wait.js';

type ApiError = { error: { code: string; message: string } };
type RepoView = { name: string; path: string; url: string | null; baseBranch: string };

/**
 * Issue 21, "repositories are shared by URL", on a single instance with a
 * real file:// bare remote: registration clones it under the home, a spawn
 * fetches first (a failed fetch is failed/repo_fetch_failed), an agent's
 * branch (snapshot included) is on the remote when it ends, a running
 * agent's checkpoint reaches the remote without touching its worktree, and
 * a landing moves the remote's target with a compare-and-swap.
 */
describe('repositories shared by URL (single instance, file:// remote)', () => {
  let t: TestInstance;
  let remote: TestRemote;
  beforeAll(async () => {
    remote = makeTestRemote({ 'shared.txt': 'one\n' });
    t = await startTestInstance({ checkpointS: 1, sandbox: 'off' });
  });
  afterAll(async () => {
    await t?.stop();
    remote?.cleanup();
  });

  it('registers by URL: cloned under the home, the URL shown; bad URLs are 400 invalid_repo_url', async () => {
    for (const url of ['ext::sh -c touch% /tmp/pwned', '-uhelp', '--upload-pack=touch /tmp/x', 'http://example.com/r.git', 'fd::0', 'file://relative/x', 'ftp://h/x']) {
      const res = await t.api<ApiError>('POST', '/repos', { name: 'bad', url });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe('invalid_repo_url');
    }
    const both = await t.api<ApiError>('POST', '/repos', { name: 'bad', url: remote.url, path: remote.repo.path });
    expect(both.status).toBe(400);
    const unreachable = await t.api<ApiError>('POST', '/repos', { name: 'gone', url: 'file:///nonexistent/remote.git' });
    expect([unreachable.status, unreachable.body.error.code]).toEqual([502, 'repo_fetch_failed']);

    const added = await t.api<RepoView>('POST', '/repos', { name: 'app', url: remote.url });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: 'app', url: remote.url, baseBranch: 'main', path: join(t.home, 'repos', 'app') });
    const listed = await t.api<{ repos: RepoView[] }>('GET', '/repos');
    expect(listed.body.repos.find((r) => r.name === 'app')?.url).toBe(remote.url);
    // The clone has no checkout and nothing checked out: its HEAD is detached.
    expect(existsSync(join(t.home, 'repos', 'app', 'shared.txt'))).toBe(false);
  });

  it('fetches before a spawn, and pushes the branch (snapshot included) to the remote when the agent ends', async () => {
    const moved = remote.commit({ 'later.txt': 'pushed after registration\n' }, 'later');
    const agent = await spawnCommand(t, 'test -f later.txt && echo c > committed.txt && git add . && git commit -qm c && echo u > uncommitted.txt', { taskId: 'ends' });
    const done = await waitForState(t, agent.id);
    expect(done.state, JSON.stringify(done.error)).toBe('completed');
    const tip = remote.branch(done.branch);
    expect(tip).not.toBeNull();
    expect(remote.show(tip!, 'committed.txt')).toBe('c\n');
    expect(remote.show(tip!, 'uncommitted.txt')).toBe('u\n');
    expect(execFileSync('git', ['-C', remote.bare, 'merge-base', '--is-ancestor', moved, tip!]).toString()).toBe('');
  }, 60_000);

  it('checkpoints a running agent to the remote without touching its worktree or index', async () => {
    const agent = await spawnCommand(t, 'echo wip > wip.txt; git add wip.txt; echo later > untracked.txt; sleep 30', { taskId: 'ckpt' });
    const running = await waitForState(t, agent.id, ['running']);
    const tip = await waitFor(() => {
      const commit = remote.branch(running.branch);
      return commit !== null && remote.show(commit, 'untracked.txt') === 'later\n' ? commit : undefined;
    }, { timeoutMs: 20_000, intervalMs: 200, what: 'a checkpoint on the remote' });
    expect(remote.show(tip, 'wip.txt')).toBe('wip\n');
    // The agent's own view is as it left it: HEAD on the base, wip.txt staged, untracked.txt untracked.
    const status = execFileSync('git', ['-C', running.worktreePath, 'status', '--porcelain'], { encoding: 'utf8' });
    expect(status.split('\n').filter(Boolean).sort()).toEqual(['?? untracked.txt', 'A  wip.txt']);
    expect(execFileSync('git', ['-C', running.worktreePath, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim())
      .toBe(remote.branch('main'));
    expect((await t.api('POST', `/agents/${agent.id}/kill`)).status).toBeLessThan(300);
    await waitForState(t, agent.id);
  }, 60_000);

  it('lands onto the remote\'s target with a compare-and-swap; a moved target is 409 target_moved', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'echo land > land.txt && git add . && git commit -qm land', { taskId: 'lands' })).id);
    expect(agent.state).toBe('completed');
    const landed = await t.api<{ landed: AgentLanding }>('POST', `/agents/${agent.id}/land`, {});
    expect(landed.status).toBe(200);
    expect(remote.branch('main')).toBe(landed.body.landed.commit);
    expect(remote.show('main', 'land.txt')).toBe('land\n');

    // The swap itself: the remote's main moved after it was read, so the push is refused and the remote keeps its commit.
    const clone = join(mkdtempSync(join(tmpdir(), 'mosaic-cas-')), 'clone');
    try {
      await cloneRemote(remote.url, clone, 30_000);
      const read = (await resolveCommit(clone, 'refs/heads/main'))!;
      const moved = remote.commit({ 'elsewhere.txt': 'x\n' }, 'moved meanwhile');
      const stale = await pushRemote(clone, remote.url, { source: read, branch: 'main', expected: read }, 30_000)
        .then(() => null, (e: unknown) => e as { status: number; code: string });
      expect(stale).toMatchObject({ status: 409, code: 'target_moved' });
      expect(remote.branch('main')).toBe(moved);
    } finally {
      rmSync(join(clone, '..'), { recursive: true, force: true });
    }
  }, 60_000);

  it('a failed fetch ends the spawn failed/repo_fetch_failed, at once', async () => {
    const away = `${remote.bare}.away`;
    renameSync(remote.bare, away);
    try {
      const started = Date.now();
      const done = await waitForState(t, (await spawnCommand(t, 'echo never', { taskId: 'nofetch' })).id);
      expect(done.state).toBe('failed');
      expect(done.error?.code).toBe('repo_fetch_failed');
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      renameSync(away, remote.bare);
    }
  }, 30_000);

  it('hostile remote: its hooks and its filter config never run on this host', async () => {
    const marker = join(remote.repo.dir, 'PWNED');
    remote.commit({ '.gitattributes': '* filter=evil\n' }, 'attributes naming the filter');
    const hook = `#!/bin/sh\necho "$0" >> ${marker}\n`;
    for (const name of ['post-receive', 'pre-receive', 'update', 'post-update', 'reference-transaction', 'post-checkout', 'push-to-checkout']) {
      writeFileSync(join(remote.bare, 'hooks', name), hook);
      chmodSync(join(remote.bare, 'hooks', name), 0o755);
    }
    const evil = `sh -c 'echo filter >> ${marker}; cat'`;
    execFileSync('git', ['-C', remote.bare, 'config', 'filter.evil.smudge', evil]);
    execFileSync('git', ['-C', remote.bare, 'config', 'filter.evil.clean', evil]);
    execFileSync('git', ['-C', remote.bare, 'config', 'uploadpack.packObjectsHook', `sh -c 'echo pack >> ${marker}; exec "$@"' --`]);
    // A new registration clones it; a spawn fetches, checks out, snapshots, pushes; a landing pushes.
    const added = await t.api('POST', '/repos', { name: 'hostile', url: remote.url });
    expect(added.status).toBe(201);
    const agent = await spawnCommand(t, 'echo h > h.txt && git add h.txt && git -c core.hooksPath=/dev/null commit -qm h && echo u > u.txt', { taskId: 'hostile', repo: 'hostile' });
    const done = await waitForState(t, agent.id);
    expect(done.state).toBe('completed');
    expect(remote.branch(done.branch)).not.toBeNull();
    expect((await t.api('POST', `/agents/${agent.id}/land`, {})).status).toBe(200);
    expect(existsSync(marker) ? readFileSync(marker, 'utf8') : '').toBe('');
  }, 60_000);
});
