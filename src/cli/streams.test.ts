import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { cliArgv, cliEnv, eventually, finished, runCli, startCli, type CliResult } from '../test-support/cli.js';
import { readSse } from '../test-support/sse.js';

/**
 * Issue 22: streaming commands in daily use. Defect 1: one whose reader
 * leaves while no event (or log line) comes must end anyway, with status 0;
 * before, it waited for the next write — for ever on an idle instance.
 * Defect 8: Ctrl-C exits 130 and says the agent keeps running; logs -f says
 * how the agent ended.
 */

let t: TestInstance;
let repo: TempDir;
let env: Record<string, string>;
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
/** Generous for a loaded machine; without the fix these pipelines never end at all. */
const ENDS_WITHIN_MS = 20_000;

/** Runs `sh -c script` ($MOSAIC is the CLI); rejects when the shell is still running after ENDS_WITHIN_MS. */
function shell(script: string): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { env: { ...cliEnv(env), MOSAIC: cliArgv().map(quote).join(' ') }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch { /* gone */ }
      reject(new Error(`\`${script}\` still running after ${ENDS_WITHIN_MS} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, ENDS_WITHIN_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

beforeAll(async () => {
  repo = await makeTempRepo();
  t = await startTestInstance({ maxAgents: 2 });
  env = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url };
  expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  repo?.cleanup();
});

describe('a streaming command ends with status 0 when its reader leaves, though nothing more is written', () => {
  it('events | head -2, with exactly two events to replay and none after', async () => {
    const id = (await spawnCommand(t, 'true')).id;
    expect((await waitForState(t, id)).state).toBe('completed');
    // queued, spawning, running, completed: replay after the second, so the stream has exactly two to write.
    const { events } = await readSse(t, `/events?after=0`, (list) => list.filter((e) => e.event === 'agent.state').length >= 4);
    const seqs = events.filter((e) => e.event === 'agent.state').map((e) => Number(e.id));
    const result = await shell(`(eval "$MOSAIC events --after ${seqs[1]}"; echo "exit=$?" >&2) | head -2`);
    expect(result.stdout.trim().split('\n')).toHaveLength(2);
    expect(result.stdout).toContain('completed');
    expect(result.stderr.trim()).toBe('exit=0');
  }, 60_000);

  it('agents list --watch | head -2, with no agent event after the first list', async () => {
    const result = await shell('(eval "$MOSAIC agents list --watch"; echo "exit=$?" >&2) | head -2');
    expect(result.stdout).toMatch(/^ID\s+STATE/);
    expect(result.stderr.trim()).toBe('exit=0');
  }, 60_000);

  it('agents logs -f | head -2 of a running agent that went quiet', async () => {
    const quiet = await spawnCommand(t, 'echo one; echo two; echo three; exec sleep 300');
    await waitForState(t, quiet.id, ['running']);
    try {
      const result = await shell(`(eval "$MOSAIC agents logs ${quiet.id} -f"; echo "exit=$?" >&2) | head -2`);
      expect(result.stdout).toBe('one\ntwo\n');
      expect(result.stderr.trim()).toBe('exit=0');
      expect((await waitForState(t, quiet.id, ['running'])).state).toBe('running'); // leaving the log does not stop the agent
    } finally {
      await t.api('POST', `/agents/${quiet.id}/kill`);
      await waitForState(t, quiet.id);
    }
  }, 60_000);
});

describe('Ctrl-C and the end of a followed agent', () => {
  it('spawn --follow: Ctrl-C exits 130, says the agent keeps running and how to kill it; the agent runs on', async () => {
    const child = startCli(['agents', 'spawn', '--repo', 'app', '--task', 'ctrlc', '--prompt', 'p', '--follow', '--', 'sh', '-c', 'echo started; exec sleep 300'], env);
    const done = finished(child);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await eventually(() => out, (text) => text.includes('started'));
    child.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    const id = /spawned (\S+):/.exec(result.stderr)?.[1];
    expect(id).toBeDefined();
    expect(result.stderr).toContain(`stopped following; ${id} keeps running (\`mosaic agents kill ${id}\` stops it)`);
    try {
      expect((await waitForState(t, id!, ['running'])).state).toBe('running');
    } finally {
      await t.api('POST', `/agents/${id}/kill`);
      await waitForState(t, id!);
    }
  }, 60_000);

  it('spawn --wait: Ctrl-C exits 130 and names the kill command', async () => {
    const child = startCli(['agents', 'spawn', '--repo', 'app', '--task', 'ctrlw', '--prompt', 'p', '--wait', '--', 'sleep', '300'], env);
    const done = finished(child);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await eventually(() => out, (text) => text.includes('spawned'));
    const id = /spawned (\S+):/.exec(out)![1]!;
    await waitForState(t, id, ['running']);
    child.kill('SIGINT');
    const result = await done;
    try {
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain(`\`mosaic agents kill ${id}\` stops it`);
    } finally {
      await t.api('POST', `/agents/${id}/kill`);
      await waitForState(t, id);
    }
  }, 60_000);

  it('logs -f prints how the agent ended (on stderr; stdout stays its output)', async () => {
    const agent = await spawnCommand(t, 'echo out; sleep 1; exit 3');
    const result = await runCli(['agents', 'logs', agent.id, '-f'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toMatch(new RegExp(`${agent.id}: failed \\(exit_nonzero`));
  }, 60_000);
});
