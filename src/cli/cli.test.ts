import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import type { RepoRecord } from '../store/types.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { eventually, finished, runCli, startCli } from '../test-support/cli.js';

let t: TestInstance;
let dir: string;
let repoPath: string;
let env: Record<string, string>;

const cli = (...args: string[]) => runCli(args, env);
const json = <T>(text: string): T => JSON.parse(text) as T;

function makeRepo(path: string): void {
  execFileSync('git', ['init', '-q', '-b', 'main', path]);
  writeFileSync(join(path, 'README.md'), '# app\n');
  execFileSync('git', ['-C', path, 'add', '.']);
  execFileSync('git', ['-C', path, '-c', 'user.name=Test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'init']);
}

async function agentState(id: string): Promise<string> {
  return (await t.api<PublicAgent>('GET', `/agents/${id}`)).body.state;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mosaic-cli-'));
  repoPath = join(dir, 'app');
  makeRepo(repoPath);
  t = await startTestInstance();
  env = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url };
  const added = await cli('repos', 'add', 'app', repoPath);
  if (added.code !== 0) throw new Error(`repos add failed: ${added.stderr}`);
});

afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('mosaic repos', () => {
  it('adds (path resolved from cwd, setup run by sh -c), lists and removes', async () => {
    const other = join(dir, 'other');
    makeRepo(other);
    // A relative path is resolved against the CLI's working directory.
    const added = await runCli(['repos', 'add', 'other', 'other', '--setup', 'npm  ci', '--copy-file', '.env', '--json'], env, dir);
    expect(added.code, added.stderr).toBe(0);
    const repo = json<RepoRecord>(added.stdout);
    expect(repo).toMatchObject({ name: 'other', path: other, baseBranch: 'main', setup: ['sh', '-c', 'npm  ci'], copyFiles: ['.env'] });

    const table = await cli('repos', 'list');
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+BASE\s+PATH/);
    expect(table.stdout).toMatch(new RegExp(`other\\s+main\\s+${other}\\s+npm  ci\\s+\\.env`));

    const removed = await cli('repos', 'remove', 'other');
    expect(removed.code, removed.stderr).toBe(0);
    const list = json<{ repos: RepoRecord[] }>((await cli('repos', 'list', '--json')).stdout);
    expect(list.repos.map((r) => r.name)).toEqual(['app']);
  });

  it('reports API errors with their code and a non-zero exit', async () => {
    const missing = await cli('repos', 'remove', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('repo_not_found');
    const duplicate = await cli('repos', 'add', 'app', repoPath, '--json');
    expect(duplicate.code).toBe(1);
    expect(json<{ error: { code: string; status: number } }>(duplicate.stderr).error).toMatchObject({ code: 'repo_exists', status: 409 });
  });
});

describe('mosaic agents', () => {
  it('spawns a command agent, lists it, shows its logs and its diff', async () => {
    const spawned = await cli('agents', 'spawn', '--repo', 'app', '--task', 'hello', '--prompt', 'say hi', '--json',
      '--', 'sh', '-c', 'echo hi; echo x > f.txt');
    expect(spawned.code, spawned.stderr).toBe(0);
    const agent = json<PublicAgent>(spawned.stdout);
    expect(agent.runtime).toEqual({ kind: 'command', argv: ['sh', '-c', 'echo hi; echo x > f.txt'] });
    expect(agent.branch).toBe(`agent-${agent.id}-hello`);
    await eventually(() => agentState(agent.id), (state) => state === 'completed');

    // Independent reads run side by side to keep the suite fast.
    const [listedJson, table, logs, diff, shown] = await Promise.all([
      cli('agents', 'list', '--json', '--task', 'hello'),
      cli('agents', 'list', '--state', 'completed'),
      cli('agents', 'logs', agent.id),
      cli('agents', 'diff', agent.id),
      cli('agents', 'show', agent.id),
    ]);
    const listed = json<{ agents: PublicAgent[] }>(listedJson.stdout);
    expect(listed.agents.map((a) => [a.id, a.state])).toEqual([[agent.id, 'completed']]);
    expect(table.stdout).toMatch(new RegExp(`${agent.id}\\s+completed\\s+hello\\s+worker\\s+app\\s+command`));

    expect(logs.code).toBe(0);
    expect(logs.stdout.split('\n')).toContain('hi');

    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('+++ b/f.txt');

    expect(shown.stdout).toMatch(/state\s+completed/);
    expect(shown.stdout).toMatch(/files changed\s+1/);
  });

  it('follows logs until the agent ends, then exits 0', async () => {
    const spawned = await cli('agents', 'spawn', '--repo', 'app', '--task', 'follow', '--prompt', 'p', '--json',
      '--', 'sh', '-c', 'echo one; sleep 1; echo two');
    const agent = json<PublicAgent>(spawned.stdout);
    const followed = await cli('agents', 'logs', agent.id, '-f');
    expect(followed.code, followed.stderr).toBe(0);
    const lines = followed.stdout.split('\n');
    expect(lines).toContain('one');
    expect(lines).toContain('two');
    expect(lines.indexOf('one')).toBeLessThan(lines.indexOf('two'));
    expect(await agentState(agent.id)).toBe('completed');
  });

  it('kills with --wait, then discards', async () => {
    const spawned = await cli('agents', 'spawn', '--repo', 'app', '--task', 'sleeper', '--prompt', 'p', '--json', '--runtime', 'command', '--', 'sleep', '60');
    const agent = json<PublicAgent>(spawned.stdout);
    await eventually(() => agentState(agent.id), (state) => state === 'running');
    const worktrees = json<{ worktrees: { agentId: string | null; orphan: boolean; path: string }[] }>((await cli('worktrees', 'list', '--json')).stdout);
    expect(worktrees.worktrees).toContainEqual(expect.objectContaining({ agentId: agent.id, orphan: false, path: agent.worktreePath }));
    const killed = await cli('agents', 'kill', agent.id, '--wait', '--json');
    expect(killed.code, killed.stderr).toBe(0);
    expect(json<PublicAgent>(killed.stdout).state).toBe('killed');

    const discarded = await cli('agents', 'discard', agent.id);
    expect(discarded.code, discarded.stderr).toBe(0);
    expect((await t.api('GET', `/agents/${agent.id}`)).status).toBe(404);
    const gone = await cli('agents', 'show', agent.id);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('agent_not_found');
  });

  it('fails with the API error code for an unknown repository', async () => {
    const result = await cli('agents', 'spawn', '--repo', 'nope', '--task', 't', '--prompt', 'p', '--', 'true');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mosaic: unknown_repo: /);
  });

  it('rejects bad usage with exit 2 before calling the server', async () => {
    const [noArgv, badPriority] = await Promise.all([
      cli('agents', 'spawn', '--repo', 'app', '--task', 't', '--prompt', 'p', '--runtime', 'command'),
      cli('agents', 'spawn', '--repo', 'app', '--task', 't', '--prompt', 'p', '--priority', '11'),
    ]);
    expect(noArgv.code).toBe(2);
    expect(noArgv.stderr).toContain('needs the command after --');
    expect(badPriority.code).toBe(2);
    expect(badPriority.stderr).toContain('--priority');
  });
});

describe('mosaic status, worktrees, events', () => {
  it('status shows health and counts', async () => {
    const [result, human] = await Promise.all([cli('status', '--json'), cli('status')]);
    expect(result.code, result.stderr).toBe(0);
    const status = json<{ health: { instanceId: string }; agents: { total: number; byState: Record<string, number> }; repos: number }>(result.stdout);
    expect(status.health.instanceId).toBe(t.identity.instanceId);
    expect(status.repos).toBe(1);
    const { agents } = (await t.api<{ agents: PublicAgent[] }>('GET', '/agents')).body;
    expect(status.agents.total).toBe(agents.length);
    expect(status.agents.byState.completed).toBe(agents.filter((a) => a.state === 'completed').length);
    expect(human.stdout).toMatch(new RegExp(`instance\\s+${t.identity.instanceId} \\(ok\\)`));
    // The store it runs on (issue 20): here the embedded SQLite file in its home.
    expect(json<{ store: unknown }>(result.stdout).store).toEqual({ backend: 'sqlite', description: `SQLite ${join(t.home, 'mosaic.db')}` });
    expect(human.stdout).toMatch(new RegExp(`store\\s+SQLite ${join(t.home, 'mosaic.db')}`));
  });

  it('worktrees list shows an orphan and reconcile snapshots and removes it', async () => {
    const stray = join(`${realpathSync(repoPath)}_worktrees`, 'stray');
    execFileSync('git', ['-C', repoPath, 'worktree', 'add', '-q', '-b', 'stray-branch', stray, 'main']);
    writeFileSync(join(stray, 'unsaved.txt'), 'work in progress\n');

    const [list, table] = await Promise.all([cli('worktrees', 'list', '--json'), cli('worktrees', 'list')]);
    expect(list.code, list.stderr).toBe(0);
    expect(json<{ worktrees: unknown[] }>(list.stdout).worktrees).toContainEqual(
      { path: stray, branch: 'stray-branch', repo: 'app', agentId: null, orphan: true, pooled: false });
    expect(table.stdout).toMatch(new RegExp(`app\\s+-\\s+stray-branch\\s+yes\\s+${stray}`));

    const reconcile = await cli('worktrees', 'reconcile', '--json');
    expect(reconcile.code, reconcile.stderr).toBe(0);
    const report = json<{ removed: { path: string }[]; errors: unknown[] }>(reconcile.stdout);
    expect(report.errors).toEqual([]);
    expect(report.removed.map((w) => w.path)).toContain(stray);
    expect(existsSync(stray)).toBe(false);
    // Nothing is lost: the uncommitted file is on the branch as a snapshot commit.
    expect(execFileSync('git', ['-C', repoPath, 'show', 'stray-branch:unsaved.txt'], { encoding: 'utf8' })).toBe('work in progress\n');
  });

  it('events streams state changes until interrupted, then exits 130 as an interrupted command does', async () => {
    const child = startCli(['events', '--json', '--after', '0'], env);
    const done = finished(child);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const spawned = json<PublicAgent>((await cli('agents', 'spawn', '--repo', 'app', '--task', 'evt', '--prompt', 'p', '--json', '--', 'true')).stdout);
    const seen = () => out.split('\n').filter(Boolean).map((line) => json<{ seq: number; agent: PublicAgent }>(line));
    const events = await eventually(seen, (list) => list.some((e) => e.agent.id === spawned.id && e.agent.state === 'completed'));
    const states = events.filter((e) => e.agent.id === spawned.id).map((e) => e.agent.state);
    expect(states).toEqual(['queued', 'spawning', 'running', 'completed']);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
  });

  it('explains a missing admin token', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mosaic-notoken-'));
    try {
      const result = await runCli(['agents', 'list'], { MOSAIC_HOME: home, MOSAIC_URL: t.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('auth_required');
      expect(result.stderr).toContain('mosaic init');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
