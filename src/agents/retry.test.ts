
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from './index.js';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../test-support/fake-claude.mjs', import.meta.url));
type ApiError = { error: { code: string } };

/** Issue 8, must-hold 7: retry gives a new agent with the same request; `continue` starts on the previous branch. */
describe('retry', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { claudeBin: FAKE_CLAUDE } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  // Appends a line to work.txt: run twice on the same work, the file has two lines.
  const SCRIPT = 'echo "run by $MOSAIC_AGENT_ID" >> work.txt && git add work.txt && git commit -qm "run $MOSAIC_AGENT_ID" && test -n "$EXTRA"';

  it('starts a new agent with the same request, on a fresh branch from the base', async () => {
    const first = await waitForState(t, (await spawnCommand(t, SCRIPT, { taskId: 'again', priority: 7, timeoutS: 600, env: { EXTRA: 'kept' } })).id);
    expect(first.state).toBe('completed'); // EXTRA reached it
    const res = await t.api<PublicAgent>('POST', `/agents/${first.id}/retry`, {});
    expect(res.status).toBe(202);
    const second = res.body;
    expect(second.id).not.toBe(first.id);
    for (const key of ['taskId', 'type', 'repo', 'baseBranch', 'prompt', 'runtime', 'priority', 'timeoutS'] as const) {
      expect(second[key], key).toEqual(first[key]);
    }
    expect(second.branch).toBe(`agent-${second.id}-again`);
    expect(second.retryOf).toEqual({ agentId: first.id, continue: false, startPoint: null, resumed: null });
    const done = await waitForState(t, second.id);
    expect(done.state).toBe('completed'); // the stored env came along (EXTRA)
    expect(git(repo.path, 'show', `${done.branch}:work.txt`)).toBe(`run by ${second.id}`);
  });

  it('--continue starts on the previous agent\'s branch and keeps its base', async () => {
    const first = await waitForState(t, (await spawnCommand(t, SCRIPT, { taskId: 'cont', env: { EXTRA: 'x' } })).id);
    const res = await t.api<PublicAgent>('POST', `/agents/${first.id}/retry`, { continue: true });
    expect(res.status).toBe(202);
    expect(res.body.retryOf).toMatchObject({ agentId: first.id, continue: true, startPoint: git(repo.path, 'rev-parse', first.branch) });
    const done = await waitForState(t, res.body.id);
    expect(done.state).toBe('completed');
    expect(done.baseBranch).toBe('main');
    expect(git(repo.path, 'show', `${done.branch}:work.txt`).split('\n')).toEqual([`run by ${first.id}`, `run by ${done.id}`]);
    git(repo.path, 'merge-base', '--is-ancestor', first.branch, done.branch);
    expect(done.result).toMatchObject({ commitsAhead: 2 });
  });

  it('--resume continues the recorded claude session', async () => {
    // The fake CLI logs its argv: a sandboxed agent's files are not the test's to read.
    const argvOf = async (id: string): Promise<string[]> => {
      const lines = (await t.api<{ lines: string[] }>('GET', `/agents/${id}/logs`)).body.lines;
      const line = lines.find((l) => l.startsWith('fake-claude: argv '));
      if (line === undefined) throw new Error(`no argv line in the log of ${id}`);
      return JSON.parse(line.slice('fake-claude: argv '.length)) as string[];
    };
    const spawned = await t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'sess', prompt: '[fake:success] work' });
    const first = await waitForState(t, spawned.body.id);
    const session = first.result?.sessionId;
    expect(session).toEqual(expect.any(String));
    expect(await argvOf(first.id)).not.toContain('--resume');
    const res = await t.api<PublicAgent>('POST', `/agents/${first.id}/retry`, { resume: true });
    expect(res.status).toBe(202);
    await waitForState(t, res.body.id);
    const argv = await argvOf(res.body.id);
    expect(argv[argv.indexOf('--resume') + 1]).toBe(session);
  });

  it('refuses what cannot be retried, with typed errors', async () => {
    const cmd = await waitForState(t, (await spawnCommand(t, 'true', { taskId: 'cmd' })).id);
    expect((await t.api<ApiError>('POST', `/agents/${cmd.id}/retry`, { resume: true })).body.error.code).toBe('resume_not_supported');
    const running = await spawnCommand(t, 'sleep 30', { taskId: 'busy' });
    const busy = await t.api<ApiError>('POST', `/agents/${running.id}/retry`, {});
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('agent_not_finished');
    await t.api('POST', `/agents/${running.id}/kill`);
    expect((await t.api<ApiError>('POST', `/agents/${cmd.id}/retry`, { continue: 'yes' })).status).toBe(400);
    expect((await t.api<ApiError>('POST', '/agents/nope/retry', {})).status).toBe(404);
  });
});
