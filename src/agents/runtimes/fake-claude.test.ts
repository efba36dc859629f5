/**
 * End to end with the fake claude: the argv from claudeInvocation, the
 * environment from agentEnvironment, a real child process in a real git
 * repository, and the parser on what it printed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CLAUDE_BIN, git, makeTempDir, makeTempRepo, waitFor, type TempDir } from '../../test-support/index.js';
import { launchSupervisor } from '../supervisor/launch.js';
import { isGroupAlive, readExitRecord, requestKill } from '../supervisor/probe.js';
import { isPidAlive } from '../supervisor/proc.js';
import type { AgentType } from '../types.js';
import { claudeInvocation } from './claude.js';
import { summarizeClaudeLog } from './claude-stream.js';
import { agentEnvironment } from './environment.js';

let repo: TempDir;
const tmp = makeTempDir('mosaic-fake-claude-');
beforeAll(async () => {
  repo = await makeTempRepo();
});
afterAll(() => {
  repo.cleanup();
  tmp.cleanup();
});

let n = 0;
function setup(prompt: string, type: AgentType = 'worker', userEnv: Record<string, string> = {}) {
  n += 1;
  const argvFile = join(tmp.path, `argv-${n}.json`);
  const { argv } = claudeInvocation({ kind: 'claude', model: 'sonnet', maxTurns: 4 }, { claudeBin: FAKE_CLAUDE_BIN, prompt, type, projectConfig: true });
  const env = agentEnvironment(process.env, {
    agentId: `agent${n}`, taskId: 'task', prompt, port: 40000 + n, type, userEnv: { FAKE_CLAUDE_ARGV_FILE: argvFile, ...userEnv },
  });
  return { argv, env, argvFile };
}

async function runFake(prompt: string, type: AgentType = 'worker', userEnv: Record<string, string> = {}) {
  const { argv, env, argvFile } = setup(prompt, type, userEnv);
  const child = spawn(argv[0] ?? '', argv.slice(1), { cwd: repo.path, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out, summary: summarizeClaudeLog(out), argv, argvFile };
}

describe('fake claude, run for real', () => {
  it('success: commits a file, leaves another uncommitted, reports a successful result', async () => {
    const before = git(repo.path, 'rev-parse', 'HEAD');
    const { code, out, summary, argv, argvFile } = await runFake('Add a file [fake:success]');
    expect(code).toBe(0);
    expect(out).toContain('fake-claude: mode success'); // stderr mixed in, ignored by the parser
    expect(summary).toMatchObject({ sawResult: true, isError: false, turns: 2, costUsd: 0.0123, model: 'sonnet' });
    expect(summary.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(summary.usage).toMatchObject({ input_tokens: 120, output_tokens: 48 });
    expect(git(repo.path, 'rev-parse', 'HEAD^')).toBe(before);
    expect(git(repo.path, 'log', '-1', '--format=%s')).toBe('fake-claude: add FAKE_CLAUDE.md');
    expect(git(repo.path, 'status', '--porcelain')).toBe('?? FAKE_UNCOMMITTED.txt');
    expect(JSON.parse(readFileSync(argvFile, 'utf8'))).toEqual(argv.slice(1));
  });

  it('review: read-only flags make it touch nothing and return the review as the result', async () => {
    const head = git(repo.path, 'rev-parse', 'HEAD');
    const status = git(repo.path, 'status', '--porcelain');
    const { code, summary } = await runFake('Review the change', 'reviewer');
    expect(code).toBe(0);
    expect(summary).toMatchObject({ sawResult: true, isError: false });
    expect(summary.resultText).toMatch(/^Review:/);
    expect(git(repo.path, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(repo.path, 'status', '--porcelain')).toBe(status);
  });

  it('error: is_error with exit 1, and with exit 0 for error-exit0', async () => {
    const a = await runFake('[fake:error]');
    expect(a.code).toBe(1);
    expect(a.summary).toMatchObject({ sawResult: true, isError: true, subtype: 'error_during_execution', errorMessage: 'fake-claude: simulated failure' });
    const b = await runFake('[fake:error-exit0]');
    expect(b.code).toBe(0);
    expect(b.summary).toMatchObject({ sawResult: true, isError: true });
  });

  it('crash: exits 3 mid-stream without a result', async () => {
    const { code, summary } = await runFake('[fake:crash]');
    expect(code).toBe(3);
    expect(summary).toMatchObject({ sawResult: false, isError: false, turns: 1, lastText: 'Working on it…' });
  });

  it('auth: the unauthenticated CLI lines, exit 1, read as a failure saying Not logged in', async () => {
    const { code, out, summary } = await runFake('[fake:auth] hello');
    expect(code).toBe(1);
    const types = out.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types).toEqual(['system', 'assistant', 'result']);
    expect(summary).toMatchObject({ sawResult: true, isError: true, subtype: 'success', assistantError: 'authentication_failed', resultText: 'Not logged in · Please run /login' });
    expect(summary.errorMessage).toContain('Not logged in · Please run /login');
  });

  it('FAKE_CLAUDE_MODE wins over the prompt directive', async () => {
    const { code, summary } = await runFake('[fake:success]', 'worker', { FAKE_CLAUDE_MODE: 'crash' });
    expect(code).toBe(3);
    expect(summary.sawResult).toBe(false);
  });

  it('slow, under a supervisor: a kill ends it and its grandchild within the grace', async () => {
    const grace = 300;
    const pidFile = join(tmp.path, 'slow-pids.json');
    const { argv, env } = setup('[fake:slow]', 'worker', { FAKE_CLAUDE_PID_FILE: pidFile });
    const agentDir = join(tmp.path, 'slow-agent');
    const launched = await launchSupervisor({ agentId: 'slow', argv, cwd: repo.path, env, agentDir, timeoutMs: null, killGraceMs: grace });
    expect(launched.pgid).not.toBeNull();
    const pids = await waitFor(() => {
      try {
        return JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; grandchildPid: number };
      } catch {
        return null;
      }
    });
    expect(pids.pid).toBe(launched.pgid);
    const log = () => readFileSync(join(agentDir, 'output.log'), 'utf8');
    await waitFor(() => log().includes('tick 2'), { what: 'two ticks' });
    expect(isPidAlive(pids.grandchildPid)).toBe(true);

    const t0 = Date.now();
    requestKill({ agentId: 'slow', agentDir, supervisorPid: launched.supervisorPid, pgid: launched.pgid, graceMs: grace });
    const exit = await waitFor(() => readExitRecord(agentDir), { timeoutMs: grace + 1500 });
    expect(Date.now() - t0).toBeLessThan(grace + 1000);
    expect(exit.killed).toBe(true);
    expect(isPidAlive(pids.grandchildPid)).toBe(false);
    expect(isGroupAlive(launched.pgid ?? 0)).toBe(false);
    const summary = summarizeClaudeLog(log());
    expect(summary.sawResult).toBe(false);
    expect(summary.turns).toBeGreaterThanOrEqual(2);
  });
});
