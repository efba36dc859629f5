import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../index.js';
import { git } from '../../test-support/agents.js';
import { makeTempDir, makeTempRepo, type TempDir } from '../../test-support/git-fixtures.js';
import { sandboxAvailable, shq } from '../../test-support/sandbox.js';
import { startServerChild, type ServerChild } from '../../test-support/server-child.js';
import { waitFor } from '../../test-support/wait.js';

/**
 * Issue 16, test 1: a "symlink storm". Before it exits, the agent replaces
 * every file and directory Mosaic later touches in its private git dir, its
 * worktree and its sandbox home with links (hard links where the file system
 * allows, symlinks otherwise) to sentinels outside: files of the test, the
 * admin token, the repository's `.git/config`. Through complete, kill, a
 * crash and reconciliation, land, retry and `--continue`, every sentinel
 * stays byte for byte the same, and the agent's real commit is on its branch
 * or the agent ended with a clear error.
 */

const TERMINAL = ['completed', 'failed', 'killed'];

/** Every file under the given paths with a hash of its content. */
function fingerprint(paths: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string): void => {
    if (statSync(p).isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
    else out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
  };
  for (const p of paths) walk(p);
  return out;
}

/**
 * The storm. `STORM_REFS=1` also links HEAD and the agent's branch ref away,
 * so its commit can no longer be found: that agent must end with a clear error.
 */
function stormScript(s: { token: string; repoConfig: string; file: string; dir: string; refs: boolean; after: string }): string {
  return [
    'set -u',
    `TOKEN=${shq(s.token)}; RCONF=${shq(s.repoConfig)}; SENT=${shq(s.file)}; SDIR=${shq(s.dir)}`,
    'echo "real $MOSAIC_AGENT_ID" > real.txt && git add real.txt && git commit -qm "real work" || exit 9',
    'G=$(git rev-parse --absolute-git-dir); B=$(git symbolic-ref --short HEAD)',
    'link() { t=$1; shift; for p in "$@"; do rm -rf "$p"; ln "$t" "$p" 2>/dev/null || ln -s "$t" "$p"; done; }',
    'link "$TOKEN" "$G/objects/info/alternates"',
    'link "$RCONF" "$G/objects/info/http-alternates"',
    'link "$SENT" "$G/index" "$G/config" "$G/packed-refs" "$G/ORIG_HEAD" "$G/FETCH_HEAD" "$G/description" "$G/shallow" "$G/objects/info/packs" "$G/objects/info/commit-graph"',
    'mkdir -p "$G/objects/ff" && link "$SENT" "$G/objects/ff/ffffffffffffffffffffffffffffffffffffff"',
    'for d in logs info hooks refs/tags refs/remotes objects/pack; do rm -rf "$G/$d"; ln -s "$SDIR" "$G/$d"; done',
    s.refs ? 'link "$SENT" "$G/HEAD" "$G/refs/heads/$B"' : ':',
    // The worktree: its .git file (bound read-only: this must fail), the copied file, links to commit.
    'rm -f .git 2>/dev/null; ln -sf "$SENT" .git 2>/dev/null',
    'link "$TOKEN" .env; ln -s "$SDIR" linked-dir; ln -s "$RCONF" config-link',
    // The sandbox home and tmp.
    'link "$SENT" "$HOME/.gitconfig" "$HOME/.claude.json"; rm -rf "$HOME/.claude" "$HOME/.cache"; ln -s "$SDIR" "$HOME/.claude"; ln -s "$TOKEN" "$HOME/.cache"',
    'ln -s "$SDIR" "${TMPDIR:-/tmp}/away" 2>/dev/null',
    'echo STORMED',
    s.after,
  ].join('\n');
}

describe.runIf(sandboxAvailable())('symlink storm', () => {
  let server: ServerChild;
  let home: TempDir;
  let repo: TempDir;
  let sentinels: TempDir;
  let protectedPaths: string[];
  let before: Map<string, string>;

  const script = (refs: boolean, after = 'true'): string => stormScript({
    token: join(home.path, 'admin-token'), repoConfig: join(repo.path, '.git', 'config'),
    file: join(sentinels.path, 'file'), dir: join(sentinels.path, 'dir'), refs, after,
  });
  const spawn = async (taskId: string, body: string): Promise<PublicAgent> => {
    const res = await server.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId, prompt: 'storm', runtime: { kind: 'command', argv: ['sh', '-c', body] } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body;
  };
  const get = async (id: string): Promise<PublicAgent> => (await server.api<PublicAgent>('GET', `/agents/${id}`)).body;
  const ended = async (id: string): Promise<PublicAgent> => {
    let agent = await get(id);
    await waitFor(async () => TERMINAL.includes((agent = await get(id)).state), { timeoutMs: 90_000, what: `agent ${id} to end` });
    return agent;
  };
  const expectUntouched = (when: string): void => {
    const after = fingerprint(protectedPaths);
    for (const [path, hash] of before) expect(after.get(path), `${path} after ${when}`).toBe(hash);
    git(repo.path, 'fsck', '--no-progress');
  };
  /** Its real commit on its branch, or a clear error with the work kept. */
  const expectSavedOrClear = (agent: PublicAgent): void => {
    if (agent.state === 'failed' && agent.error?.code === 'work_not_saved') {
      expect(agent.error.message).toMatch(/refused|not a regular file/);
      expect(existsSync(agent.worktreePath)).toBe(true);
      return;
    }
    expect(git(repo.path, 'log', '--format=%s', `main..${agent.branch}`).split('\n')).toContain('real work');
  };

  beforeAll(async () => {
    home = makeTempDir('mosaic-storm-home-');
    sentinels = makeTempDir('mosaic-storm-sentinels-');
    writeFileSync(join(sentinels.path, 'file'), 'sentinel file\n');
    mkdirSync(join(sentinels.path, 'dir'));
    writeFileSync(join(sentinels.path, 'dir', 'inside'), 'sentinel in a directory\n');
    repo = await makeTempRepo({ gitignore: 'node_modules/\n*.log\n.env\n' });
    writeFileSync(join(repo.path, '.env'), 'SECRET=from-the-main-checkout\n');
    server = await startServerChild({ home: home.path, env: { MOSAIC_SANDBOX: 'required' } });
    expect((await server.api('POST', '/repos', { name: 'app', path: repo.path, copyFiles: ['.env'] })).status).toBe(201);
    protectedPaths = [sentinels.path, join(home.path, 'admin-token'), join(repo.path, '.git', 'config'), join(repo.path, '.git', 'HEAD'), join(repo.path, '.env')];
    before = fingerprint(protectedPaths);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    for (const dir of [repo, sentinels, home]) dir?.cleanup();
  });

  let survivor: PublicAgent;

  it('complete: the commit comes home past the storm; with HEAD and its ref linked away it ends failed/work_not_saved', async () => {
    const [kept, lost] = await Promise.all([spawn('storm', script(false)), spawn('storm-refs', script(true))]);
    survivor = await ended(kept.id);
    expect(survivor.state, JSON.stringify(survivor.error)).toBe('completed');
    expectSavedOrClear(survivor);
    expect(git(repo.path, 'log', '--format=%s', `main..${survivor.branch}`).split('\n')).toContain('real work');
    const refused = await ended(lost.id);
    expect(refused.state).toBe('failed');
    expect(refused.error?.code).toBe('work_not_saved');
    expectSavedOrClear(refused);
    expectUntouched('complete');
  }, 180_000);

  it('kill: a stormed agent killed while it runs', async () => {
    const agent = await spawn('storm-kill', script(false, 'touch STORM_DONE; sleep 120'));
    await waitFor(async () => existsSync(join(agent.worktreePath, 'STORM_DONE')), { timeoutMs: 60_000, what: 'the storm' });
    expect((await server.api('POST', `/agents/${agent.id}/kill`)).status).toBeLessThan(300);
    const killed = await ended(agent.id);
    expect(['killed', 'failed']).toContain(killed.state);
    expectSavedOrClear(killed);
    expectUntouched('kill');
  }, 180_000);

  it('crash and reconcile: the agent ends while the server is down; the restarted server imports, reconciliation retries the kept one', async () => {
    const agent = await spawn('storm-crash', script(false, 'touch STORM_DONE; sleep 3'));
    await waitFor(async () => existsSync(join(agent.worktreePath, 'STORM_DONE')), { timeoutMs: 60_000, what: 'the storm' });
    await server.crash();
    await new Promise((resolve) => setTimeout(resolve, 4000)); // the agent ends meanwhile, under its supervisor
    server = await startServerChild({ home: home.path, env: { MOSAIC_SANDBOX: 'required' } });
    const done = await ended(agent.id);
    expectSavedOrClear(done);
    const report = await server.api<{ errors: { path: string }[] }>('POST', '/worktrees/reconcile');
    expect(report.status).toBe(200);
    expectUntouched('crash and reconcile');
  }, 240_000);

  it('land, retry and --continue of a stormed agent', async () => {
    const landed = await server.api('POST', `/agents/${survivor.id}/land`, {});
    expect(landed.status, JSON.stringify(landed.body)).toBe(200);
    expect(git(repo.path, 'log', '--format=%s', 'main')).toContain('real work');
    expectUntouched('land');

    const retried = await server.api<PublicAgent>('POST', `/agents/${survivor.id}/retry`, {});
    expect(retried.status).toBe(202);
    expectSavedOrClear(await ended(retried.body.id));
    expectUntouched('retry');

    const continued = await server.api<PublicAgent>('POST', `/agents/${survivor.id}/retry`, { continue: true });
    expect(continued.status).toBe(202);
    const done = await ended(continued.body.id);
    expect(['completed', 'failed']).toContain(done.state);
    if (done.state === 'completed') expectSavedOrClear(done);
    expectUntouched('--continue');
  }, 240_000);
});
