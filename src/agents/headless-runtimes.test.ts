import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from './index.js';
import { git, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';

const FAKE = fileURLToPath(new URL('../test-support/fake-agent-cli.mjs', import.meta.url));

/**
 * The codex, gemini and opencode runtimes end to end, each driven through a
 * fake CLI replaying its upstream format (test-support/fake-agent-cli.mjs):
 * records, progress events, costs (reported, estimated from the instance's
 * prices.json, null for an unknown model), typed failures and resume argv.
 */
describe('codex, gemini and opencode runtimes', () => {
  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({
      config: { codexBin: FAKE, geminiBin: FAKE, opencodeBin: FAKE, runtimeFirstEventS: 3 },
    });
    writeFileSync(join(env.t.home, 'prices.json'), JSON.stringify({
      models: { 'gpt-test': { inputUsdPerMTok: 2, cachedInputUsdPerMTok: 0.5, outputUsdPerMTok: 10 } },
      defaults: { codex: 'gpt-test' },
    }));
  });
  afterAll(() => env.stop());

  const spawn = async (taskId: string, runtime: Record<string, unknown>, prompt = 'add a file', extra: Record<string, unknown> = {}): Promise<PublicAgent> => {
    const res = await env.t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId, prompt, runtime, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return waitForState(env.t, res.body.id, undefined, 30_000);
  };
  const argvOf = async (id: string): Promise<string[]> => {
    const lines = (await env.t.api<{ lines: string[] }>('GET', `/agents/${id}/logs`)).body.lines;
    const line = lines.find((l) => l.startsWith('fake-cli: argv '));
    if (line === undefined) throw new Error(`no argv line in the log of ${id}`);
    return JSON.parse(line.slice('fake-cli: argv '.length)) as string[];
  };
  const progressEvents = async (id: string) =>
    (await env.t.store.events.after(0, 5000)).filter((e) => e.agentId === id && e.type === 'agent.progress');

  it('codex: completes with thread, one turn, running-total usage and a cost estimated from prices.json; its work is on the branch', async () => {
    const agent = await spawn('cx', { kind: 'codex' });
    expect(agent.state, JSON.stringify(agent.error)).toBe('completed');
    expect(agent.result).toMatchObject({
      sessionId: expect.any(String), turns: 1, summary: 'Added FAKE_CODEX.md.',
      usage: { inputTokens: 20000, cachedInputTokens: 15000, outputTokens: 1000, reasoningTokens: 400 },
      costEstimated: true,
    });
    // 5000 fresh × 2 + 15000 cached × 0.5 + 1000 out × 10, per million.
    expect(agent.result?.costUsd).toBeCloseTo(0.0275, 6);
    expect(git(env.repo.path, 'log', '--format=%s', `main..${agent.branch}`)).toContain('fake codex: FAKE_CODEX.md');
    const argv = await argvOf(agent.id);
    expect(argv.slice(0, 3)).toEqual(['exec', '--json', '--skip-git-repo-check']);
    expect(argv).toContain('--dangerously-bypass-approvals-and-sandbox');
    expect(argv.at(-2)).toBe('--');
    expect((await progressEvents(agent.id)).at(-1)?.data.progress).toMatchObject({ turns: 1, tools: ['shell', 'edit'] });
  }, 180_000);

  it('gemini: completes with session, turns, usage (thinking into output) and a null cost for an unknown model, with a note', async () => {
    const agent = await spawn('gm', { kind: 'gemini', model: 'gemini-mystery' });
    expect(agent.state, JSON.stringify(agent.error)).toBe('completed');
    expect(agent.result).toMatchObject({
      sessionId: expect.any(String), turns: 2, summary: 'Done: added FAKE_GEMINI.md.',
      usage: { inputTokens: 1200, cachedInputTokens: 800, outputTokens: 300, reasoningTokens: 100 },
      costUsd: null, costEstimated: false, costNote: expect.stringContaining('gemini-mystery'),
    });
    const argv = await argvOf(agent.id);
    for (const a of ['--output-format', 'stream-json', '--approval-mode', 'yolo', '--skip-trust', '--model', 'gemini-mystery']) expect(argv).toContain(a);
    expect(argv.at(-1)).toMatch(/^--prompt=/);
  }, 180_000);

  it('opencode: completes with the cost it reported (summed over steps) and usage with cache and reasoning added back', async () => {
    const agent = await spawn('oc', { kind: 'opencode', model: 'anthropic/claude-sonnet-4-5' });
    expect(agent.state, JSON.stringify(agent.error)).toBe('completed');
    expect(agent.result).toMatchObject({
      sessionId: expect.stringMatching(/^ses_/), turns: 2, summary: 'Added FAKE_OPENCODE.md.', costEstimated: false,
      usage: { inputTokens: 100 + 1000 + 20 + 30 + 1100, outputTokens: 50 + 10 + 20, cachedInputTokens: 2100, reasoningTokens: 10 },
    });
    expect(agent.result?.costUsd).toBeCloseTo(0.015, 6);
    const argv = await argvOf(agent.id);
    expect(argv.slice(0, 4)).toEqual(['run', '--format', 'json', '--auto']);
  }, 180_000);

  it('an error event fails the agent with the CLI\'s own message', async () => {
    const codex = await spawn('cx-err', { kind: 'codex' }, '[fake:error] x');
    expect(codex.state).toBe('failed');
    expect(codex.error).toEqual({ code: 'codex_error', message: 'unexpected status 400 Bad Request: model not supported' });
    const gemini = await spawn('gm-err', { kind: 'gemini' }, '[fake:error] x');
    expect(gemini.error).toMatchObject({ code: 'gemini_error', message: expect.stringContaining('invalid chunk') });
    const opencode = await spawn('oc-err', { kind: 'opencode' }, '[fake:error] x');
    expect(opencode.error).toMatchObject({ code: 'opencode_error', message: 'Model not found: nope/nope' });
  }, 180_000);

  it('a stream that stops mid-way fails with <kind>_no_result, keeping what it said', async () => {
    for (const kind of ['codex', 'gemini', 'opencode']) {
      const agent = await spawn(`${kind}-crash`, { kind }, '[fake:crash] x');
      expect(agent.state).toBe('failed');
      expect(agent.error?.code).toBe(`${kind}_no_result`);
      expect(agent.result?.sessionId).toEqual(expect.any(String));
    }
  }, 180_000);

  it('not logged in: failed with the CLI\'s own words, typed, within seconds', async () => {
    const started = Date.now();
    const codex = await spawn('cx-auth', { kind: 'codex' }, 'x', { env: { FAKE_CLI_LOGGED_OUT: '1' } });
    expect(codex.error).toMatchObject({ code: 'not_logged_in', message: expect.stringContaining('Not logged in') });
    const gemini = await spawn('gm-auth', { kind: 'gemini' }, '[fake:auth] x');
    expect(gemini.error).toMatchObject({ code: 'not_logged_in', message: expect.stringContaining('Please set an Auth method') });
    expect(gemini.exitCode).toBe(41);
    const opencode = await spawn('oc-auth', { kind: 'opencode' }, '[fake:auth] x');
    expect(opencode.error).toMatchObject({ message: expect.stringContaining('opencode auth login') });
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 180_000);

  it('a runtime that prints no event in MOSAIC_RUNTIME_FIRST_EVENT_S ends failed/runtime_silent', async () => {
    const agent = await spawn('oc-silent', { kind: 'opencode' }, '[fake:silent] x');
    expect(agent.state).toBe('failed');
    expect(agent.error).toMatchObject({ code: 'runtime_silent', message: expect.stringContaining('within 3 s') });
  }, 180_000);

  it('retry --resume and reply continue the recorded session with each CLI\'s resume argv', async () => {
    const cases: [string, (argv: string[], session: string) => void][] = [
      ['codex', (argv, s) => expect(argv.slice(argv.indexOf('resume'), argv.indexOf('resume') + 2)).toEqual(['resume', s])],
      ['gemini', (argv, s) => expect(argv[argv.indexOf('--resume') + 1]).toBe(s)],
      ['opencode', (argv, s) => expect(argv[argv.indexOf('--session') + 1]).toBe(s)],
    ];
    for (const [kind, check] of cases) {
      const first = await spawn(`${kind}-r1`, { kind });
      const session = first.result!.sessionId!;
      const retried = await env.t.api<PublicAgent>('POST', `/agents/${first.id}/retry`, { resume: true });
      expect(retried.status, JSON.stringify(retried.body)).toBe(202);
      const second = await waitForState(env.t, retried.body.id, undefined, 30_000);
      check(await argvOf(second.id), session);
      expect(second.retryOf?.resumed).toBe(session);
      const replied = await env.t.api<PublicAgent>('POST', `/agents/${second.id}/reply`, { prompt: 'and more' });
      expect(replied.status, JSON.stringify(replied.body)).toBe(202);
      const third = await waitForState(env.t, replied.body.id, undefined, 30_000);
      check(await argvOf(third.id), session);
    }
  }, 300_000);
});

/**
 * Its own instance: a rate-limit refusal pauses that runtime's spawns until
 * the reset (fleet governance, issue 18), which would hold the other tests'
 * agents of the same runtimes queued.
 */
describe('codex, gemini and opencode rate limits', () => {
  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { codexBin: FAKE, geminiBin: FAKE, opencodeBin: FAKE, runtimeFirstEventS: 3, rateLimitRetry: false } });
  });
  afterAll(() => env.stop());

  it('a rate-limit refusal is typed rate_limited and pauses the runtime', async () => {
    for (const kind of ['codex', 'gemini', 'opencode']) {
      const res = await env.t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: `${kind}-rl`, prompt: '[fake:ratelimit] x', runtime: { kind } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const agent = await waitForState(env.t, res.body.id, ['completed', 'failed', 'killed'], 60_000);
      expect(agent.state).toBe('failed');
      expect(agent.error?.code, `${kind}: ${JSON.stringify(agent.error)}`).toBe('rate_limited');
    }
    const { limits } = (await env.t.api<{ limits: Array<{ runtime: string; state: string }> }>('GET', '/limits')).body;
    expect(limits.filter((l) => l.state === 'paused').map((l) => l.runtime).sort()).toEqual(['codex', 'gemini', 'opencode']);
  }, 180_000);
});
