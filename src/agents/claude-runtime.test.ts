import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from './index.js';
import { git, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startInstanceWithRepo, startTestInstance, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../test-support/fake-claude.mjs', import.meta.url));

/** The claude runtime, driven through a fake `claude` that prints Claude Code's stream-json lines. */
describe('claude runtime', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { claudeBin: FAKE_CLAUDE } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  /** The argv the fake CLI got, from its log line (a sandboxed agent's files are not the test's to read). */
  const argvOf = async (id: string): Promise<string> => {
    const lines = (await t.api<{ lines: string[] }>('GET', `/agents/${id}/logs`)).body.lines;
    const line = lines.find((l) => l.startsWith('fake-claude: argv '));
    if (line === undefined) throw new Error(`no argv line in the log of ${id}`);
    return line.slice('fake-claude: argv '.length);
  };

  const spawnClaude = async (taskId: string, prompt: string, extra: Record<string, unknown> = {}): Promise<PublicAgent> => {
    const res = await t.api<PublicAgent>('POST', '/agents', {
      repo: 'app', taskId, prompt, ...extra,
    });
    expect(res.status).toBe(202);
    return waitForState(t, res.body.id);
  };

  it('completes with the session id, turns, cost and usage, and keeps the work', async () => {
    const agent = await spawnClaude('ok', '[fake:success] add a file', { runtime: { kind: 'claude', model: 'sonnet', maxTurns: 7 } });
    expect(agent.state).toBe('completed');
    expect(agent.result).toMatchObject({ sessionId: expect.any(String), turns: expect.any(Number), costUsd: expect.any(Number) });
    expect(agent.result?.usage).toBeTypeOf('object');
    const argv = await argvOf(agent.id);
    for (const flag of ['-p', '--output-format', 'stream-json', '--verbose', '--model', 'sonnet', '--max-turns', '7']) expect(argv).toContain(flag);
    // The fake commits FAKE_CLAUDE.md and leaves another file uncommitted: both end on the branch.
    expect(git(repo.path, 'log', '--format=%s', `main..${agent.branch}`).split('\n')).toHaveLength(2);

    // Its stream-json turns were announced as progress events, the last one kept on the record.
    expect(agent.progress).toMatchObject({ turns: 2, sessionId: agent.result?.sessionId });
    const progress = (await t.store.events.after(0, 1000)).filter((e) => e.agentId === agent.id && e.type === 'agent.progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)?.data.progress?.turns).toBe(2);
    expect(progress.every((e) => Object.keys(e.data.env).length === 0)).toBe(true);
  });

  it('runs a reviewer read-only: its review is the result and its branch stays unchanged', async () => {
    const agent = await spawnClaude('review', 'Review the last commit', { type: 'reviewer' });
    expect(agent.state).toBe('completed');
    expect(agent.result?.summary).toBeTruthy();
    expect(agent.result).toMatchObject({ commitsAhead: 0, filesChanged: 0 });
    expect(git(repo.path, 'rev-parse', agent.branch)).toBe(git(repo.path, 'rev-parse', 'main'));
    const argv = await argvOf(agent.id);
    expect(argv).toContain('--disallowedTools');
  });

  it('fails on an error result', async () => {
    const agent = await spawnClaude('err', '[fake:error] break');
    expect(agent.state).toBe('failed');
    expect(agent.error?.code).toBe('claude_error');
  });

  it('fails on an error result even when the process exits 0', async () => {
    const agent = await spawnClaude('err0', '[fake:error-exit0] break');
    expect(agent.state).toBe('failed');
    expect(agent.exitCode).toBe(0);
    expect(agent.error?.code).toBe('claude_error');
  });

  it('fails when the stream stops without a result', async () => {
    const agent = await spawnClaude('crash', '[fake:crash] crash');
    expect(agent.state).toBe('failed');
    expect(agent.error?.code).toBe('claude_no_result');
  });

  it('fails with the login message when claude is not authenticated', async () => {
    const agent = await spawnClaude('auth', '[fake:auth] anything');
    expect(agent.state).toBe('failed');
    expect(agent.error?.message).toContain('Not logged in');
  });

  it('fails with runtime_not_found when the claude binary does not exist', async () => {
    const other = await startTestInstance({ claudeBin: '/nonexistent/claude' });
    try {
      await other.api('POST', '/repos', { name: 'app', path: repo.path.concat('') }).catch(() => undefined);
      // The repository is registered on the first instance; register a fresh one here.
      const second = await makeTempRepo();
      await other.api('POST', '/repos', { name: 'two', path: second.path });
      const res = await other.api<PublicAgent>('POST', '/agents', { repo: 'two', taskId: 'nobin', prompt: 'hi' });
      const agent = await waitForState(other, res.body.id);
      expect(agent.state).toBe('failed');
      expect(agent.error?.code).toBe('runtime_not_found');
      // What to do next (issue 22, defect 7): the setting that names the executable.
      expect(agent.error?.message).toMatch(/\/nonexistent\/claude.*set MOSAIC_CLAUDE_BIN to the claude executable's path/);
      // A command agent whose program is missing is told about PATH instead.
      const cmd = await other.api<PublicAgent>('POST', '/agents', { repo: 'two', taskId: 'nocmd', prompt: 'hi', runtime: { kind: 'command', argv: ['mosaic-no-such-program-xyz'] } });
      const failed = await waitForState(other, cmd.body.id);
      expect(failed.error?.code).toBe('runtime_not_found');
      expect(failed.error?.message).toContain('mosaic-no-such-program-xyz');
      expect(failed.error?.message).toContain('a program on the agent\'s PATH');
      expect(failed.error?.message).not.toContain('MOSAIC_CLAUDE_BIN');
      second.cleanup();
    } finally {
      await other.stop();
    }
  });
});
