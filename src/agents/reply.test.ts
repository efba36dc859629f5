import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from './index.js';
import { FAKE_CLAUDE_BIN } from '../test-support/index.js';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { runCli } from '../test-support/cli.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

type ApiError = { error: { code: string; message: string } };

/**
 * Issue 22, follow-ups: `reply` continues a finished agent's work with a new
 * instruction — a new agent on its branch tip, resuming its claude session,
 * linked by `followUpOf`.
 */
describe('reply', () => {
  let t: TestInstance;
  let repo: { path: string };
  let env: InstanceWithRepo;
  beforeAll(async () => {
    // One slot: a second agent waits queued (the last test kills one there).
    env = await startInstanceWithRepo({ config: { claudeBin: FAKE_CLAUDE_BIN, maxAgents: 1 } });
    ({ t, repo } = env);
  });
  afterAll(() => env?.stop());

  /** The argv the fake claude got, from its log (a sandboxed agent's files are not the test's to read). */
  const argvOf = async (id: string): Promise<string[]> => {
    const lines = (await t.api<{ lines: string[] }>('GET', `/agents/${id}/logs`)).body.lines;
    const line = lines.find((l) => l.startsWith('fake-claude: argv '));
    if (line === undefined) throw new Error(`no argv line in the log of ${id}`);
    return JSON.parse(line.slice('fake-claude: argv '.length)) as string[];
  };

  // Appends the agent's prompt to notes.txt and commits: a follow-up's file has both instructions.
  const NOTE = 'echo "$MOSAIC_PROMPT" >> notes.txt && git add notes.txt && git commit -qm "$MOSAIC_AGENT_ID"';

  it('continues a completed command agent on its branch tip with the new prompt, its base and request kept', async () => {
    const first = await waitForState(t, (await spawnCommand(t, NOTE, { taskId: 'notes', prompt: 'first instruction', priority: 7 })).id);
    expect(first.state).toBe('completed');
    const tip = git(repo.path, 'rev-parse', first.branch);
    const res = await t.api<PublicAgent>('POST', `/agents/${first.id}/reply`, { prompt: 'second instruction' });
    expect(res.status).toBe(202);
    const reply = res.body;
    expect(reply.id).not.toBe(first.id);
    expect(reply.branch).toBe(`agent-${reply.id}-notes`);
    expect(reply.prompt).toBe('second instruction');
    for (const key of ['taskId', 'type', 'repo', 'baseBranch', 'runtime', 'priority'] as const) expect(reply[key], key).toEqual(first[key]);
    expect(reply.followUpOf).toEqual({ agentId: first.id, continue: true, startPoint: tip, resumed: null });
    expect(reply.retryOf).toBeNull();
    const done = await waitForState(t, reply.id);
    expect(done.state).toBe('completed');
    expect(git(repo.path, 'show', `${done.branch}:notes.txt`).split('\n')).toEqual(['first instruction', 'second instruction']);
    expect(done.result).toMatchObject({ commitsAhead: 2 }); // its diff and land include the earlier work
    expect(git(repo.path, 'rev-parse', first.branch)).toBe(tip); // the old branch is untouched

    // The CLI: reply with words, and show lists the conversation under the original with the prompts.
    const cliEnv = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url };
    const third = await runCli(['agents', 'reply', done.id, 'third', 'instruction', '--wait', '--json'], cliEnv);
    expect(third.code, third.stderr).toBe(0);
    const thirdAgent = JSON.parse(third.stdout) as PublicAgent;
    expect(thirdAgent).toMatchObject({ state: 'completed', prompt: 'third instruction', followUpOf: { agentId: done.id } });
    const shown = await runCli(['agents', 'show', first.id], cliEnv);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`follow-ups\\s+${done.id} completed\\s+second instruction\\n\\s+${thirdAgent.id} completed\\s+third instruction`));
    expect(shown.stdout).toMatch(/prompt:\nfirst instruction/);
    const shownReply = await runCli(['agents', 'show', done.id], cliEnv);
    expect(shownReply.stdout).toMatch(new RegExp(`follow-up of\\s+${first.id} completed\\s+first instruction`));
  }, 90_000);

  it('resumes a claude agent\'s recorded session: the follow-up\'s argv carries --resume <session id>', async () => {
    const spawned = await t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'talk', prompt: '[fake:success] start' });
    const first = await waitForState(t, spawned.body.id);
    expect(first.state).toBe('completed');
    const session = first.result?.sessionId;
    expect(session).toEqual(expect.any(String));
    expect(await argvOf(first.id)).not.toContain('--resume');
    const res = await t.api<PublicAgent>('POST', `/agents/${first.id}/reply`, { prompt: '[fake:success] and now the tests' });
    expect(res.status).toBe(202);
    expect(res.body.followUpOf).toMatchObject({ agentId: first.id, resumed: session });
    expect((await waitForState(t, res.body.id)).state).toBe('completed');
    const argv = await argvOf(res.body.id);
    expect(argv[argv.indexOf('--resume') + 1]).toBe(session);
    expect(argv[argv.length - 1]).toBe('[fake:success] and now the tests');
  }, 60_000);

  it('refuses a running agent (agent_not_finished), an empty prompt, an unknown agent, and one that never made a branch', async () => {
    const running = await spawnCommand(t, 'sleep 60', { taskId: 'busy' });
    await waitForState(t, running.id, ['running']);
    const busy = await t.api<ApiError>('POST', `/agents/${running.id}/reply`, { prompt: 'more' });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('agent_not_finished');
    expect(busy.body.error.message).toContain('kill it first');
    await t.api('POST', `/agents/${running.id}/kill`);
    await waitForState(t, running.id);

    const empty = await t.api<ApiError>('POST', `/agents/${running.id}/reply`, { prompt: '' });
    expect(empty.status).toBe(400);
    const extra = await t.api<ApiError>('POST', `/agents/${running.id}/reply`, { prompt: 'x', resume: true });
    expect(extra.status).toBe(400);
    expect((await t.api<ApiError>('POST', '/agents/nosuchagent/reply', { prompt: 'x' })).body.error.code).toBe('agent_not_found');

    // Killed while queued (the one slot is taken): no branch was ever made, so there is nothing to continue.
    const blocker = await spawnCommand(t, 'sleep 60', { taskId: 'block' });
    await waitForState(t, blocker.id, ['running']);
    try {
      const queued = await spawnCommand(t, 'true', { taskId: 'never' });
      const killed = await t.api<PublicAgent>('POST', `/agents/${queued.id}/kill`);
      expect(killed.body.state).toBe('killed');
      const none = await t.api<ApiError>('POST', `/agents/${queued.id}/reply`, { prompt: 'x' });
      expect(none.status).toBe(404);
      expect(none.body.error.code).toBe('branch_not_found');
    } finally {
      await t.api('POST', `/agents/${blocker.id}/kill`);
      await waitForState(t, blocker.id);
    }
  }, 60_000);
});
