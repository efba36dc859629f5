import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentLanding, PublicAgent } from './index.js';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

type Landed = { agent: PublicAgent; landed: AgentLanding };
type ApiError = { error: { code: string; message: string; details?: Record<string, unknown> } };

/** Issue 8, must-holds 1–4 through the HTTP API, with real agents and a real repository. */
describe('landing agents', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  const main = () => git(repo.path, 'rev-parse', 'main');
  const status = () => git(repo.path, 'status', '--porcelain');

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ repo: { files: { 'shared.txt': 'one\ntwo\nthree\n' } } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  const finished = async (script: string, taskId: string): Promise<PublicAgent> => {
    const agent = await waitForState(t, (await spawnCommand(t, script, { taskId })).id);
    expect(agent.state).toBe('completed');
    return agent;
  };

  it('lands with each strategy: main gains the work, the record shows landed, the checkout is clean', async () => {
    const merged = await finished('echo m > m.txt && git add m.txt && git commit -qm "add m"', 'merge-me');
    const squashed = await finished('echo s1 > s1.txt && git add . && git commit -qm s1 && echo s2 > s2.txt && git add . && git commit -qm s2', 'squash-me');
    const rebased = await finished('echo r1 > r1.txt && git add . && git commit -qm r1 && echo r2 > r2.txt && git add . && git commit -qm r2', 'rebase-me');

    let before = main();
    const m = await t.api<Landed>('POST', `/agents/${merged.id}/land`, {});
    expect(m.status).toBe(200);
    expect(m.body.landed).toMatchObject({ into: 'main', strategy: 'merge', commit: main() });
    expect(m.body.agent.landed).toEqual(m.body.landed);
    expect(git(repo.path, 'rev-list', '--parents', '-n1', 'main').split(' ')).toEqual([main(), before, git(repo.path, 'rev-parse', merged.branch)]);

    before = main();
    const s = await t.api<Landed>('POST', `/agents/${squashed.id}/land`, { strategy: 'squash', message: 'Squash: both files' });
    expect(s.status).toBe(200);
    expect(git(repo.path, 'rev-list', '--parents', '-n1', 'main').split(' ')).toEqual([main(), before]);
    expect(git(repo.path, 'log', '-1', '--format=%s', 'main')).toBe('Squash: both files');

    before = main();
    const r = await t.api<Landed>('POST', `/agents/${rebased.id}/land`, { strategy: 'rebase' });
    expect(r.status).toBe(200);
    expect(git(repo.path, 'log', '--format=%s', `${before}..main`).split('\n')).toEqual(['r2', 'r1']);
    expect(git(repo.path, 'rev-list', '--merges', `${before}..main`)).toBe('');

    for (const f of ['m.txt', 's1.txt', 's2.txt', 'r1.txt', 'r2.txt']) expect(readFileSync(join(repo.path, f), 'utf8')).not.toBe('');
    expect(status()).toBe('');
    expect((await t.api<PublicAgent>('GET', `/agents/${rebased.id}`)).body.landed).toMatchObject({ strategy: 'rebase', into: 'main' });
    const events = await t.store.events.after(0, 10_000);
    expect(events.filter((e) => e.type === 'agent.landed').map((e) => e.agentId)).toEqual([merged.id, squashed.id, rebased.id]);
  }, 90_000); // three agents one after the other: slow on a loaded 2-core machine

  it('target_dirty: the user\'s uncommitted change and main stay byte-for-byte unchanged', async () => {
    const agent = await finished('echo d > d.txt && git add . && git commit -qm d', 'dirty-target');
    writeFileSync(join(repo.path, 'shared.txt'), 'the user is editing this\n');
    const before = main();
    const res = await t.api<ApiError>('POST', `/agents/${agent.id}/land`, {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('target_dirty');
    expect(main()).toBe(before);
    expect(readFileSync(join(repo.path, 'shared.txt'), 'utf8')).toBe('the user is editing this\n');
    expect(status()).toBe('M shared.txt');
    expect((await t.api<PublicAgent>('GET', `/agents/${agent.id}`)).body.landed).toBeNull();
    git(repo.path, 'checkout', '--', 'shared.txt');
  });

  it('land_conflict: exact paths, nothing changed anywhere', async () => {
    const agent = await finished("printf 'one\\nAGENT\\nthree\\n' > shared.txt && git commit -qam agent-edit", 'conflicting');
    writeFileSync(join(repo.path, 'shared.txt'), 'one\nUSER\nthree\n');
    git(repo.path, 'commit', '-qam', 'user edit');
    const before = main();
    const branchBefore = git(repo.path, 'rev-parse', agent.branch);
    const res = await t.api<ApiError>('POST', `/agents/${agent.id}/land`, { strategy: 'merge' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'land_conflict', details: { paths: ['shared.txt'] } });
    // What to do next (issue 22, defect 7), the path named once.
    const message = res.body.error.message;
    expect(message).toContain(`agent ${agent.id} conflicts with main in 1 file(s): shared.txt.`);
    expect(message.split('shared.txt').length - 1).toBe(1);
    expect(message).toContain(`mosaic agents reply ${agent.id} "merge main and resolve the conflicts"`);
    expect(message).toContain(`mosaic agents retry ${agent.id}`);
    expect(message).toContain(`git -C ${repo.path} merge ${agent.branch}`);
    expect(res.body.error.details?.next).toHaveLength(3);
    expect(main()).toBe(before);
    expect(git(repo.path, 'rev-parse', agent.branch)).toBe(branchBefore);
    expect(status()).toBe('');
  });

  it('two agents landed at once into the same target both arrive', async () => {
    const a = await finished('echo a > race-a.txt && git add . && git commit -qm a', 'race-a');
    const b = await finished('echo b > race-b.txt && git add . && git commit -qm b', 'race-b');
    const results = await Promise.all([
      t.api<Landed>('POST', `/agents/${a.id}/land`, {}),
      t.api<Landed>('POST', `/agents/${b.id}/land`, { strategy: 'squash' }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const commits = results.map((r) => r.body.landed.commit);
    // One was computed on top of the other: both are in main's history and main is the later one.
    for (const c of commits) git(repo.path, 'merge-base', '--is-ancestor', c, 'main');
    expect(commits).toContain(main());
    expect(readFileSync(join(repo.path, 'race-a.txt'), 'utf8')).toBe('a\n');
    expect(readFileSync(join(repo.path, 'race-b.txt'), 'utf8')).toBe('b\n');
    expect(status()).toBe('');
  });

  it('refuses a running agent, bad bodies and unknown ids with typed errors', async () => {
    const running = await spawnCommand(t, 'sleep 30', { taskId: 'still-running' });
    await waitForState(t, running.id, ['running']);
    const res = await t.api<ApiError>('POST', `/agents/${running.id}/land`, {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('agent_not_finished');
    await t.api('POST', `/agents/${running.id}/kill`);
    expect((await t.api<ApiError>('POST', `/agents/${running.id}/land`, { strategy: 'octopus' })).status).toBe(400);
    expect((await t.api<ApiError>('POST', `/agents/${running.id}/land`, { extra: 1 })).status).toBe(400);
    expect((await t.api<ApiError>('POST', '/agents/nope/land', {})).body.error.code).toBe('agent_not_found');
  });
});
