import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { git } from '../../test-support/agents.js';
import { FAST_FEDERATION, postRaw } from '../../test-support/federation.js';
import { envelope } from '../../test-support/federation-forge.js';
import { makeTempDir, makeTempRepo, type TempDir } from '../../test-support/git-fixtures.js';
import { completedAgent, startHostilePeer, type HostilePeer } from '../../test-support/hostile-peer.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';

type ApiError = { error: { code: string; message: string } };

/**
 * Issue 16, must-hold "Peers choose no names on this side": a spoke that
 * reports its agent on a branch of its choosing (`main`, a tag, `../x`) or
 * sends a bundle with other or extra refs, or objects git's checks refuse,
 * gets `502 peer_misreported` from fetch, push and land, and no ref of the
 * hub (nor of the remote it pushes to) moves.
 */
describe('a hostile spoke picks no names on the hub', () => {
  let hub: TestInstance;
  let repo: TempDir;
  let origin: TempDir;
  let peerDir: TempDir;
  let peer: HostilePeer;
  let peerRepo: string;
  /** The commit every piece of the peer's work starts from (the hub has it). */
  let base: string;

  beforeAll(async () => {
    repo = await makeTempRepo();
    git(repo.path, 'branch', 'release');
    origin = makeTempDir('mosaic-origin-');
    git(origin.path, 'init', '-q', '--bare');
    git(repo.path, 'remote', 'add', 'origin', origin.path);
    git(repo.path, 'push', '-q', 'origin', 'main');
    base = git(repo.path, 'rev-parse', 'main');
    // The peer's own copy of the repository, where "its agent's work" is made.
    peerDir = makeTempDir('mosaic-peer-repo-');
    peerRepo = join(peerDir.path, 'web');
    execFileSync('git', ['clone', '-q', repo.path, peerRepo]);
    git(peerRepo, 'config', 'user.name', 'Peer');
    git(peerRepo, 'config', 'user.email', 'peer@example.invalid');
    hub = await startTestInstance({ name: 'hub', ...FAST_FEDERATION });
    expect((await hub.api('POST', '/repos', { name: 'web', path: repo.path })).status).toBe(201);
    peer = await startHostilePeer();
    const conn = await hub.api<{ state: string }>('POST', '/federation/connections', { url: peer.url, name: 'spoke' });
    expect(conn.status).toBe(201);
    expect(conn.body.state).toBe('active');
  });
  afterAll(async () => {
    await hub?.stop();
    await peer?.close();
    for (const dir of [repo, origin, peerDir]) dir?.cleanup();
  });

  /** Every ref of the hub's repository and of the remote it pushes to, with the checkout's state. */
  const hubState = (): string => [git(repo.path, 'for-each-ref'), git(origin.path, 'for-each-ref'), git(repo.path, 'status', '--porcelain')].join('\n--\n');

  /** A commit on the base, made in the peer's repository. */
  const work = (file: string): string => {
    git(peerRepo, 'checkout', '-q', '--detach', base);
    writeFileSync(join(peerRepo, file), `${file}\n`);
    git(peerRepo, 'add', file);
    git(peerRepo, 'commit', '-qm', `work on ${file}`);
    return git(peerRepo, 'rev-parse', 'HEAD');
  };

  /** A bundle of `refs` (name → commit) relative to the base, as base64. */
  const bundleOf = (refs: Record<string, string>): string => {
    const file = join(peerDir.path, 'out.bundle');
    for (const [ref, commit] of Object.entries(refs)) git(peerRepo, 'update-ref', ref, commit);
    git(peerRepo, 'bundle', 'create', '-q', file, ...Object.keys(refs), `^${base}`);
    for (const ref of Object.keys(refs)) git(peerRepo, 'update-ref', '-d', ref);
    const bytes = readFileSync(file);
    rmSync(file);
    return bytes.toString('base64');
  };

  const spawn = (taskId: string, extra: Record<string, unknown> = {}): Promise<{ status: number; body: PublicAgent & ApiError }> =>
    hub.api<PublicAgent & ApiError>('POST', '/agents', { peer: 'spoke', repo: 'web', taskId, prompt: 'remote work', runtime: { kind: 'claude' }, ...extra });

  it('an honest peer\'s work comes to refs/heads/agent-<id>-<task> and lands in the hub\'s base branch', async () => {
    // The peer says its base was `release`: the hub lands into its own repository's base branch, never a name the peer gave.
    peer.onSpawn = (args, from) => completedAgent(args, from, { baseBranch: 'release' });
    const spawned = await spawn('honest');
    expect(spawned.status).toBe(202);
    const branch = `agent-${spawned.body.id}-honest`;
    expect(spawned.body.branch).toBe(branch);
    const head = work('honest.txt');
    peer.onBundle = () => ({ branch, base, head, bundle: bundleOf({ [`refs/heads/${branch}`]: head }) });
    const release = git(repo.path, 'rev-parse', 'release');
    const fetched = await hub.api<{ fetched: { branch: string; commit: string } }>('POST', `/agents/${spawned.body.id}/fetch`, {});
    expect(fetched.status).toBe(200);
    expect(fetched.body.fetched).toMatchObject({ branch, commit: head });
    expect(git(repo.path, 'rev-parse', `refs/heads/${branch}`)).toBe(head);
    const landed = await hub.api<{ landed: { into: string } }>('POST', `/agents/${spawned.body.id}/land`, {});
    expect(landed.status).toBe(200);
    expect(landed.body.landed.into).toBe('main');
    expect(git(repo.path, 'merge-base', '--is-ancestor', head, 'main')).toBe('');
    expect(git(repo.path, 'rev-parse', 'release')).toBe(release);
  });

  for (const [what, fields] of [
    ['branch main', { branch: 'main' }],
    ['branch refs/tags/v1', { branch: 'refs/tags/v1' }],
    ['branch ../x', { branch: '../x' }],
    ['another task', { taskId: 'other' }],
    ['another repository', { repo: 'other' }],
  ] as const) {
    it(`a spawn answered with ${what} is refused and nothing is recorded`, async () => {
      const before = hubState();
      peer.onSpawn = (args, from) => completedAgent(args, from, fields);
      const res = await spawn('lying-spawn');
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe('peer_misreported');
      const all = await hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all');
      expect(all.body.agents.filter((a) => a.taskId === 'lying-spawn')).toEqual([]);
      expect(hubState()).toBe(before);
    });
  }

  /** The agent.bundle answers of a spoke that lies about its (honestly spawned) agent's work. */
  const lyingBundles: Array<[string, (branch: string, head: string) => Record<string, unknown>]> = [
    ['answers branch main with a bundle of refs/heads/main', (_b, head) => ({ branch: 'main', head, bundle: bundleOf({ 'refs/heads/main': head }) })],
    ['answers branch refs/tags/v1 with a bundle of that tag', (_b, head) => ({ branch: 'refs/tags/v1', head, bundle: bundleOf({ 'refs/tags/v1': head }) })],
    ['answers branch ../x', (branch, head) => ({ branch: '../x', head, bundle: bundleOf({ [`refs/heads/${branch}`]: head }) })],
    ['sends its branch as refs/heads/main', (branch, head) => ({ branch, head, bundle: bundleOf({ 'refs/heads/main': head }) })],
    ['sends its branch as a tag', (branch, head) => ({ branch, head, bundle: bundleOf({ 'refs/tags/v1': head }) })],
    ['sends a bundle with an extra ref', (branch, head) => ({ branch, head, bundle: bundleOf({ [`refs/heads/${branch}`]: head, 'refs/heads/main': head }) })],
    ['sends objects git refuses (a tree entry named .git)', (branch) => {
      const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: peerRepo, input: '[core]\n\tfsmonitor = touch /tmp/pwned\n', encoding: 'utf8' }).trim();
      const tree = execFileSync('git', ['mktree'], { cwd: peerRepo, input: `100644 blob ${blob}\t.git\n`, encoding: 'utf8' }).trim();
      const head = git(peerRepo, 'commit-tree', tree, '-p', base, '-m', 'evil');
      return { branch, head, bundle: bundleOf({ [`refs/heads/${branch}`]: head }) };
    }],
  ];

  for (const [what, answer] of lyingBundles) {
    it(`fetch, push and land refuse when the peer ${what}; no ref moves`, async () => {
      peer.onSpawn = (args, from) => completedAgent(args, from);
      const spawned = await spawn('lying-bundle');
      expect(spawned.status).toBe(202);
      const branch = spawned.body.branch;
      const head = work('lying.txt');
      peer.onBundle = () => ({ base, ...answer(branch, head) });
      const before = hubState();
      for (const [op, body] of [['fetch', {}], ['push', {}], ['land', {}]] as const) {
        const res = await hub.api<ApiError>('POST', `/agents/${spawned.body.id}/${op}`, body);
        expect({ op, status: res.status, code: res.body.error?.code }).toEqual({ op, status: 502, code: 'peer_misreported' });
        expect(hubState()).toBe(before);
      }
    });
  }

  it('an event that renames a spawned agent\'s branch is refused; its work still goes only to the derived branch', async () => {
    peer.onSpawn = (args, from) => completedAgent(args, from, { state: 'running', exitCode: null, endedAt: null });
    const spawned = await spawn('renamed');
    expect(spawned.status).toBe(202);
    const id = spawned.body.id;
    const branch = `agent-${id}-renamed`;
    const push = async (seq: number, fields: Record<string, unknown>): Promise<string | undefined> => {
      const agent = { ...completedAgent({ taskId: 'renamed', repo: 'web', prompt: 'remote work', runtime: { kind: 'claude' } }, hub.identity.instanceId), id, branch, ...fields, updatedAt: Date.now() + seq };
      const { bytes, signature } = peer.signed(envelope('EVENT', peer.identity.id, hub.identity.instanceId, { event: 'agent.state', seq, agent }));
      return (await postRaw(hub, 'event', bytes, signature)).code;
    };
    expect(await push(1, { branch: 'main' })).toBe('peer_misreported');
    expect(await push(2, { taskId: 'other' })).toBe('peer_misreported');
    const mirrored = await hub.api<PublicAgent>('GET', `/agents/${id}`);
    expect(mirrored.body).toMatchObject({ state: 'running', branch, taskId: 'renamed' });
    expect(await push(3, {})).toBeUndefined();
    const head = work('renamed.txt');
    peer.onBundle = () => ({ branch: 'main', base, head, bundle: bundleOf({ 'refs/heads/main': head }) });
    const before = hubState();
    const res = await hub.api<ApiError>('POST', `/agents/${id}/fetch`, {});
    expect(res.body.error?.code).toBe('peer_misreported');
    expect(hubState()).toBe(before);
  });
});
