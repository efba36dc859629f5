import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { cliArgv, cliEnv, eventually, runCli, type CliResult } from '../test-support/cli.js';

/** Issue 9 points 2, 3, 5, 6, 8: pipes, kill and wait, errors, show, discard. One instance, one agent slot. */

let t: TestInstance;
let repo: TempDir;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, env);
const json = <T>(text: string): T => JSON.parse(text) as T;
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Runs `sh -c script` where $MOSAIC is the CLI; resolves with the shell's result. */
function shell(script: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { env: { ...cliEnv(env), MOSAIC: cliArgv().map(quote).join(' ') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

beforeAll(async () => {
  repo = await makeTempRepo();
  t = await startTestInstance({ maxAgents: 1 });
  env = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url };
  expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  repo?.cleanup();
});

describe('pipes (point 2)', () => {
  it('events, logs -f and list --watch exit 0 quietly when the reader goes away', async () => {
    const talker = await spawnCommand(t, 'i=0; while [ $i -lt 400 ]; do echo "line $i"; i=$((i+1)); sleep 0.02; done');
    await waitForState(t, talker.id, ['running']);
    // Each pipeline reports the CLI's own exit status on stderr; head takes one line and leaves.
    const pipelines = Promise.all([
      shell('(eval "$MOSAIC events --after 0"; echo "exit=$?" >&2) | head -1'),
      shell(`(eval "$MOSAIC agents logs ${talker.id} -f"; echo "exit=$?" >&2) | head -1`),
      shell('(eval "$MOSAIC agents list --watch"; echo "exit=$?" >&2) | head -1'),
    ]);
    // Events keep coming (the next agent), so every stream has more to write after head is gone.
    // 400 forks with short sleeps: minutes on a loaded machine, so a wait bounded only against hanging.
    await waitForState(t, talker.id, undefined, 180_000);
    const next = await spawnCommand(t, 'true');
    await waitForState(t, next.id);
    const results = await pipelines;
    for (const result of results) {
      expect(result.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      expect(result.stderr.trim()).toBe('exit=0');
    }
    expect(results[1]!.stdout).toBe('line 0\n');
  }, 240_000);
});

describe('kill and wait (point 3)', () => {
  it('kill says the kill was requested and what state comes; spawn --wait and --follow exit 0/1/3', async () => {
    const sleeper = await spawnCommand(t, 'sleep 60');
    await waitForState(t, sleeper.id, ['running']);
    const killed = await cli('agents', 'kill', sleeper.id);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toMatch(new RegExp(`^kill requested for ${sleeper.id} \\(running\\): it ends as killed once its processes are gone`));
    await waitForState(t, sleeper.id);

    const spawn = (...args: string[]) => cli('agents', 'spawn', '--repo', 'app', '--task', 'w', '--prompt', 'p', ...args);
    const ok = await spawn('--wait', '--', 'true');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/: completed\n$/);
    const failed = await spawn('--wait', '--json', '--', 'sh', '-c', 'exit 4');
    expect(failed.code).toBe(1);
    expect(json<PublicAgent>(failed.stdout)).toMatchObject({ state: 'failed', exitCode: 4 });

    const follow = runCli(['agents', 'spawn', '--repo', 'app', '--task', 'f', '--prompt', 'p', '--follow', '--', 'sh', '-c', 'echo hello-from-agent; sleep 60'], env);
    const running = await eventually(async () => (await t.api<{ agents: PublicAgent[] }>('GET', '/agents?taskId=f&state=running')).body.agents, (list) => list.length === 1);
    await eventually(async () => (await t.api<{ lines: string[] }>('GET', `/agents/${running[0]!.id}/logs`)).body.lines, (lines) => lines.includes('hello-from-agent'));
    expect((await t.api('POST', `/agents/${running[0]!.id}/kill`)).status).toBe(202);
    const followed = await follow;
    expect(followed.code, followed.stderr).toBe(3);
    expect(followed.stdout).toContain('hello-from-agent\n');
    expect(followed.stderr).toContain(`${running[0]!.id}: killed`);
  }, 60_000);
});

describe('errors (point 5)', () => {
  it('say what a name may be, exit 2 for usage and 1 for refusals, and keep the code with --json', async () => {
    const bad = await cli('agents', 'show', '../etc');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("letters, digits, '.', '_' or '-'");
    expect(bad.stderr).not.toContain('(?!');
    const api = await t.api<{ error: { code: string; message: string } }>('GET', '/agents/a..b');
    expect(api.status).toBe(400);
    expect(api.body.error.message).toBe("id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'");

    const missing = await cli('agents', 'show', 'nope', '--json');
    expect(missing.code).toBe(1);
    expect(json<{ error: { code: string; status: number } }>(missing.stderr).error).toMatchObject({ code: 'agent_not_found', status: 404 });
    const usage = await cli('agents', 'list', '--bogus', '--json');
    expect(usage.code).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(usage.stderr).error).toMatchObject({ code: 'usage', message: expect.stringContaining('--bogus') });
  });
});

describe('show and diff (point 6), discard (point 8)', () => {
  it('show says a worktree was removed and a branch never created; diff of an agent that never started is empty with a note', async () => {
    const blocker = await spawnCommand(t, 'sleep 60', { taskId: 'blocker' });
    await waitForState(t, blocker.id, ['running']);
    const queued = await spawnCommand(t, 'true', { taskId: 'never' });
    expect(queued.state).toBe('queued');
    expect((await t.api('POST', `/agents/${queued.id}/kill`)).status).toBe(202);
    await t.api('POST', `/agents/${blocker.id}/kill`);
    await waitForState(t, blocker.id);

    const shown = await cli('agents', 'show', queued.id);
    expect(shown.stdout).toMatch(/branch\s+none — never created/);
    expect(shown.stdout).toMatch(/worktree\s+none — never created/);
    const diff = await cli('agents', 'diff', queued.id);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toBe('');
    expect(diff.stderr).toContain('never started');

    const ended = await cli('agents', 'show', blocker.id);
    expect(ended.stdout).toMatch(new RegExp(`worktree\\s+${blocker.worktreePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(removed`));
    expect(ended.stdout).toMatch(new RegExp(`branch\\s+${blocker.branch} \\(from main\\)`));
  }, 60_000);

  it('discard refuses a branch with unmerged commits without --force, and asks on a terminal', async () => {
    const worker = await waitForState(t, (await spawnCommand(t, 'echo work > work.txt', { taskId: 'work' })).id);
    expect(worker.result?.commitsAhead).toBe(1);
    const refused = await cli('agents', 'discard', worker.id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unmerged_commits: .*1 commit on agent-.* that main does not have.*--force/);
    expect(git(repo.path, 'branch', '--list', worker.branch)).toContain(worker.branch);

    // On a terminal (script gives the CLI one), answering no keeps it, yes discards it.
    const onTty = (answer: string) => shell(`printf '${answer}\\n' | script -qec "$MOSAIC agents discard ${worker.id}" /dev/null`);
    const no = await onTty('n');
    expect(no.stdout).toContain('Discard it anyway? [y/N]');
    expect((await t.api('GET', `/agents/${worker.id}`)).status).toBe(200);
    const yes = await onTty('y');
    expect(yes.stdout).toContain(`discarded ${worker.id}`);
    expect((await t.api('GET', `/agents/${worker.id}`)).status).toBe(404);
    expect(git(repo.path, 'branch', '--list', worker.branch)).toBe('');

    const other = await waitForState(t, (await spawnCommand(t, 'echo more > more.txt', { taskId: 'more' })).id);
    const api = await t.api<{ error: { code: string; details: { commitsAhead: number } } }>('DELETE', `/agents/${other.id}`);
    expect([api.status, api.body.error.code, api.body.error.details.commitsAhead]).toEqual([409, 'unmerged_commits', 1]);
    const forced = await cli('agents', 'discard', other.id, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect((await t.api('GET', `/agents/${other.id}`)).status).toBe(404);
  }, 60_000);
});
