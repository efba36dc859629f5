import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAgentUser, checkWorktreeMode } from '../../cli/checks.js';
import { git, spawnCommand, waitForState } from '../../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../../test-support/instance.js';
import { poolReady } from '../../test-support/pool.js';
import { attackOutcome, attackScript, shq } from '../../test-support/sandbox.js';
import { resolveAgentUser } from './agent-user.js';
import { handOver, handOverLayer } from '../../core/hand-over.js';
import { trustAgentOwnedTrees, WorktreeManager } from '../../git/index.js';
import { makeTestRepo } from '../../test-support/test-repo.js';

const asRoot = process.getuid?.() === 0;

/** Issue 16, "No root in the sandbox": as root, agents, their setups and pool setups run as MOSAIC_AGENT_USER. */
describe.runIf(asRoot)('sandbox: agents run as the agent user when Mosaic is root', () => {
  let env: InstanceWithRepo;
  // Outside every hidden path (not HOME, not /tmp, not $MOSAIC_HOME, not a repository), in a directory anyone may enter.
  const outside = mkdtempSync('/var/tmp/mosaic-root-only-');
  const secret = join(outside, 'secret');

  beforeAll(async () => {
    chmodSync(outside, 0o755);
    writeFileSync(secret, 'root-only-content\n', { mode: 0o600 });
    env = await startInstanceWithRepo({ config: { killGraceMs: 300 } });
    const { t } = env;
    expect((await t.api('PATCH', '/repos/app', { setup: ['sh', '-c', 'echo setup-uid=$(id -u) setup-gid=$(id -g)'] })).status).toBe(200);
  });
  afterAll(async () => {
    await env.stop();
    rmSync(outside, { recursive: true, force: true });
  });

  it('cannot read a root-owned 0600 file outside every hidden path; runs as nobody, its setup too, and its work is kept', async () => {
    const { t } = env;
    const attempts = { rootOnlyFile: `cat ${shq(secret)}`, shadow: 'head -c 1 /etc/shadow' };
    const agent = await waitForState(t, (await spawnCommand(t, `echo agent-uid=$(id -u) agent-gid=$(id -g) groups=$(id -G)\n${attackScript(attempts)}\n`
      + 'echo work > work.txt && git add work.txt && git commit -qm work && echo COMMITTED', { taskId: 'unprivileged' })).id, undefined, 60_000);
    expect(agent.state).toBe('completed');
    expect(agent.sandbox).toBe('bubblewrap');
    const lines = (await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
    expect(attackOutcome(lines)).toEqual({ leaked: [], blocked: ['rootOnlyFile', 'shadow'] });
    expect(lines.join('\n')).not.toContain('root-only-content');
    expect(lines).toContain('setup-uid=65534 setup-gid=65534');
    expect(lines).toContain('agent-uid=65534 agent-gid=65534 groups=65534');
    // The commit made as the agent user (in trees it owns) came home, and Mosaic's own git worked on them.
    expect(lines).toContain('COMMITTED');
    expect(git(env.repo.path, 'show', `${agent.branch}:work.txt`)).toBe('work');
  }, 90_000);

  it('a pooled worktree\'s setup runs as the agent user too', async () => {
    const { t } = env;
    expect((await t.api('PATCH', '/repos/app', { poolSize: 1 })).status).toBe(200);
    await poolReady(t, 1);
    const agent = await waitForState(t, (await spawnCommand(t, 'echo agent-uid=$(id -u)', { taskId: 'pooled' })).id, undefined, 60_000);
    expect(agent.state).toBe('completed');
    expect(agent.pooled).toBe(true);
    const lines = (await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
    expect(lines).toContain('setup-uid=65534 setup-gid=65534');
    expect(lines).toContain('agent-uid=65534');
    expect((await t.api('PATCH', '/repos/app', { poolSize: 0 })).status).toBe(200);
  }, 120_000);
});

describe('agent user: resolution, hand-over and doctor', () => {
  it('resolves names and ids, and refuses root and unknown users', () => {
    expect(resolveAgentUser('nobody')).toMatchObject({ uid: 65534, gid: 65534 });
    expect(resolveAgentUser('1234')).toMatchObject({ uid: 1234, gid: 1234 });
    expect(resolveAgentUser('1234:4321')).toMatchObject({ uid: 1234, gid: 4321 });
    expect(() => resolveAgentUser('root')).toThrow(/unprivileged/);
    expect(() => resolveAgentUser('0')).toThrow(/unprivileged/);
    expect(() => resolveAgentUser('nobody:0')).toThrow(/unprivileged/);
    expect(() => resolveAgentUser('no-such-user-here')).toThrow(/no user named/);
  });

  it.runIf(asRoot)('hands over only what Mosaic owns, never through a symbolic or a hard link', async () => {
    const base = mkdtempSync('/tmp/mosaic-handover-');
    try {
      const tree = join(base, 'tree');
      mkdirSync(join(tree, 'sub'), { recursive: true });
      writeFileSync(join(tree, 'sub', 'file'), 'x');
      const outsideFile = join(base, 'outside');
      writeFileSync(outsideFile, 'not the agent\'s');
      symlinkSync(outsideFile, join(tree, 'link'));
      linkSync(outsideFile, join(tree, 'hard'));
      await handOver([tree], { uid: 65534, gid: 65534 });
      for (const path of [tree, join(tree, 'sub'), join(tree, 'sub', 'file')]) expect(lstatSync(path).uid).toBe(65534);
      expect(lstatSync(outsideFile).uid).toBe(0);
      expect(lstatSync(join(tree, 'link')).uid).toBe(0);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it.runIf(asRoot)('hands over only the layer of a layered worktree, through its mount, never through a link', async () => {
    const repo = makeTestRepo();
    const nobody = { spec: 'nobody', uid: 65534, gid: 65534 };
    const manager = new WorktreeManager({ layered: nobody });
    trustAgentOwnedTrees(nobody.uid);
    try {
      for (let i = 0; i < 20; i++) repo.write(`src/f${i}.txt`, `${i}\n`);
      repo.commitAll('files');
      const wt = await manager.create({ repoPath: repo.path, name: 'agent-l', branch: 'agent-l', baseBranch: 'main' });
      const upper = manager.layerUpper(repo.path, wt.path);
      expect(upper).not.toBeNull();
      // What Mosaic writes there as root before the agent runs: copied files, a deletion, a link it must not follow.
      mkdirSync(join(wt.path, 'copied'));
      writeFileSync(join(wt.path, 'copied', '.env'), 'KEY=1\n');
      rmSync(join(wt.path, 'src', 'f3.txt'));
      const outsideFile = join(repo.path, '..', 'outside');
      writeFileSync(outsideFile, 'not the agent\'s');
      symlinkSync(outsideFile, join(wt.path, 'link'));
      const changed = await handOverLayer(upper as string, wt.path, nobody);
      // The top directory, the .git file, copied/ and copied/.env: nothing of the base, which is the agent's already.
      expect(changed).toBe(4);
      for (const path of [wt.path, join(wt.path, '.git'), join(wt.path, 'copied'), join(wt.path, 'copied', '.env'), join(wt.path, 'src', 'f4.txt')]) {
        expect(lstatSync(path).uid).toBe(65534);
      }
      expect(lstatSync(outsideFile).uid).toBe(0);
      expect(lstatSync(join(wt.path, 'link')).uid).toBe(0);
      // The agent can now change what Mosaic wrote; git agrees the deletion is one.
      execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', 'echo KEY=2 > copied/.env'], { cwd: wt.path });
      expect(repo.git(['-c', 'safe.directory=*', 'status', '--porcelain', '--', 'src'], wt.path)).toBe(' D src/f3.txt\n');
      await manager.remove(repo.path, wt.path);
    } finally {
      trustAgentOwnedTrees(null);
      repo.cleanup();
    }
  });

  it('doctor says how worktrees are made', () => {
    const ctx = { home: '/nonexistent', url: 'http://127.0.0.1:1', token: undefined };
    const env = { PATH: process.env.PATH, MOSAIC_HOME: '/nonexistent' };
    expect(checkWorktreeMode({ ...ctx, env }, true)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^layered: an overlay/) });
    expect(checkWorktreeMode({ ...ctx, env }, false)).toMatchObject({ status: 'ok', detail: expect.stringContaining('needs Mosaic to run as root') });
    expect(checkWorktreeMode({ ...ctx, env: { ...env, MOSAIC_LAYERED_WORKTREES: '0' } }, true)).toMatchObject({ detail: 'full checkouts (MOSAIC_LAYERED_WORKTREES=0)' });
    expect(checkWorktreeMode({ ...ctx, env: { ...env, MOSAIC_LAYERED_WORKTREES: 'maybe' } }, true)).toMatchObject({ status: 'fail' });
  });

  it('doctor names the user agents run as', () => {
    const ctx = { home: '/nonexistent', url: 'http://127.0.0.1:1', token: undefined };
    const PATH = process.env.PATH;
    expect(checkAgentUser({ ...ctx, env: { PATH, MOSAIC_HOME: '/nonexistent' } }, true))
      .toMatchObject({ status: 'ok', detail: expect.stringContaining('run as nobody (uid 65534, gid 65534), not root') });
    expect(checkAgentUser({ ...ctx, env: { PATH, MOSAIC_HOME: '/nonexistent', MOSAIC_AGENT_USER: 'root' } }, true)).toMatchObject({ status: 'fail' });
    expect(checkAgentUser({ ...ctx, env: { PATH: '/nonexistent', MOSAIC_HOME: '/nonexistent', MOSAIC_AGENT_USER: '4242' } }, true))
      .toMatchObject({ status: 'fail', detail: expect.stringContaining('setpriv') });
    expect(checkAgentUser({ ...ctx, env: { PATH, MOSAIC_HOME: '/nonexistent' } }, false)).toMatchObject({ status: 'ok', detail: expect.stringContaining('Mosaic\'s own user') });
  });
});
