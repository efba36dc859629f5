import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempDir, makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';

interface ErrorBody { error: { code: string; message: string } }
interface PushBody { agent: { id: string }; pushed: { remote: string; branch: string; commit: string; pr?: string } }

/** Issue 8, push: an agent's branch goes to a git remote of its repository (here a local bare repository). */
describe('push', () => {
  let t: TestInstance;
  let repo: TempDir;
  let remote: TempDir;

  beforeAll(async () => {
    repo = await makeTempRepo();
    remote = makeTempDir('mosaic-remote-');
    git(remote.path, 'init', '-q', '--bare');
    git(repo.path, 'remote', 'add', 'origin', remote.path);
    git(repo.path, 'push', '-q', 'origin', 'main');
    t = await startTestInstance({ killGraceMs: 300 });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
    remote.cleanup();
  });

  const remoteHas = (branch: string): string | null => {
    try {
      return git(remote.path, 'rev-parse', '--verify', '-q', `refs/heads/${branch}`);
    } catch {
      return null;
    }
  };

  it('pushes a finished agent\'s branch to the named remote, tip for tip', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'echo pushed > p.txt && git add p.txt && git commit -qm "to push"', { taskId: 'pushme' })).id);
    expect(agent.state).toBe('completed');
    const res = await t.api<PushBody>('POST', `/agents/${agent.id}/push`, { remote: 'origin' });
    expect(res.status).toBe(200);
    const tip = git(repo.path, 'rev-parse', agent.branch);
    expect(res.body.pushed).toEqual({ remote: 'origin', branch: agent.branch, commit: tip });
    expect(remoteHas(agent.branch)).toBe(tip);
    expect(git(remote.path, 'show', `${agent.branch}:p.txt`)).toBe('pushed');
  });

  it('refuses what it cannot do with a typed error, and pushes nothing', async () => {
    const done = await waitForState(t, (await spawnCommand(t, 'echo x > x.txt', { taskId: 'refused' })).id);
    const unknown = await t.api<ErrorBody>('POST', `/agents/${done.id}/push`, { remote: 'nowhere' });
    expect({ status: unknown.status, code: unknown.body.error.code }).toEqual({ status: 400, code: 'unknown_remote' });
    const optionLike = await t.api<ErrorBody>('POST', `/agents/${done.id}/push`, { remote: '--receive-pack=touch /tmp/owned' });
    expect({ status: optionLike.status, code: optionLike.body.error.code }).toEqual({ status: 400, code: 'unknown_remote' });
    const url = await t.api<ErrorBody>('POST', `/agents/${done.id}/push`, { remote: remote.path });
    expect(url.body.error.code).toBe('unknown_remote');
    const badBody = await t.api<ErrorBody>('POST', `/agents/${done.id}/push`, { remote: 'origin', pr: 'yes' });
    expect(badBody.status).toBe(400);
    // No gh on this machine: the request is refused before anything is pushed.
    const pr = await t.api<ErrorBody>('POST', `/agents/${done.id}/push`, { pr: true });
    expect({ status: pr.status, code: pr.body.error.code }).toEqual({ status: 409, code: 'gh_not_installed' });
    expect(remoteHas(done.branch)).toBeNull();

    const running = await spawnCommand(t, 'sleep 30', { taskId: 'still-running' });
    await waitForState(t, running.id, ['running']);
    const early = await t.api<ErrorBody>('POST', `/agents/${running.id}/push`, {});
    expect({ status: early.status, code: early.body.error.code }).toEqual({ status: 409, code: 'agent_not_finished' });
    await t.api('POST', `/agents/${running.id}/kill`);
    await waitForState(t, running.id);
  });

  it('never forces: a remote branch with other commits answers push_rejected and keeps them', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'echo mine > mine.txt', { taskId: 'diverged' })).id);
    // Someone else already pushed a different commit under the same branch name.
    const other = makeTempDir('mosaic-other-');
    git(other.path, 'clone', '-q', remote.path, 'c');
    const clone = `${other.path}/c`;
    git(clone, 'checkout', '-q', '-b', agent.branch, 'origin/main');
    git(clone, '-c', 'user.name=o', '-c', 'user.email=o@o', 'commit', '-q', '--allow-empty', '-m', 'theirs');
    git(clone, 'push', '-q', 'origin', agent.branch);
    const theirs = remoteHas(agent.branch);
    const res = await t.api<ErrorBody>('POST', `/agents/${agent.id}/push`, {});
    expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 409, code: 'push_rejected' });
    expect(remoteHas(agent.branch)).toBe(theirs);
    other.cleanup();
  });
});
