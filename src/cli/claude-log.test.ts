import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { waitForState } from '../test-support/agents.js';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { formatEvent } from './agent-format.js';
import { renderLogLine } from '../agents/runtimes/log-render.js';
import { runCli } from '../test-support/cli.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../test-support/fake-claude.mjs', import.meta.url));

/** Issue 9 point 1: claude agents' logs read like a conversation; --raw gives the stream-json; events show progress. */
describe('renderLogLine', () => {
  it('renders text, tool calls with their input, shortened results and the final result', () => {
    const assistant = JSON.stringify({ type: 'assistant', message: { content: [
      { type: 'text', text: 'Let me run the tests.' },
      { type: 'tool_use', name: 'Bash', input: { command: 'npm test -- --reporter=dot', description: 'run tests' } },
    ] } });
    expect(renderLogLine(assistant)).toEqual(['Let me run the tests.', '▸ Bash: npm test -- --reporter=dot']);
    const output = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(300)}`).join('\n');
    const [result] = renderLogLine(JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', content: output }] } }));
    expect(result!.length).toBeLessThan(240);
    expect(result).toMatch(/^ {2}↳ line 0 x+… \(50 lines\)$/);
    expect(renderLogLine(JSON.stringify({ type: 'result', is_error: false, num_turns: 3, duration_ms: 12_400, total_cost_usd: 0.0421, result: 'All green.' })))
      .toEqual(['✓ done (3 turns, 12s, $0.0421)', 'All green.']);
    expect(renderLogLine(JSON.stringify({ type: 'result', is_error: true, errors: ['Not logged in'] }))).toEqual(['✗ failed', 'Not logged in']);
    expect(renderLogLine('[mosaic] setup done')).toEqual(['[mosaic] setup done']);
    expect(renderLogLine('{not json')).toEqual(['{not json']);
  });

  it('shows agent.progress events as one line', () => {
    const agent = { id: 'a1', state: 'running', updatedAt: 0, progress: { turns: 2, tools: ['Read', 'Edit'], lastText: 'Fixing\nthe redirect now' } } as unknown as PublicAgent;
    expect(formatEvent('agent.progress', agent)).toMatch(/a1 {2}progress {3}turn 2 {2}tools=Read,Edit {2}Fixing the redirect now$/);
  });
});

describe('mosaic agents logs for a claude agent', () => {
  let t: TestInstance;
  let repo: TempDir;
  let env: Record<string, string>;
  beforeAll(async () => {
    repo = await makeTempRepo();
    t = await startTestInstance({ claudeBin: FAKE_CLAUDE });
    env = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url };
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
    repo?.cleanup();
  });

  it('renders the stream for people by default and prints it as written with --raw', async () => {
    const spawned = await t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'readable', prompt: 'write the file' });
    const agent = await waitForState(t, spawned.body.id);
    expect(agent.state).toBe('completed');
    const [readable, raw] = await Promise.all([runCli(['agents', 'logs', agent.id], env), runCli(['agents', 'logs', agent.id, '--raw'], env)]);
    expect(readable.code, readable.stderr).toBe(0);
    expect(readable.stdout).toContain('── session started');
    expect(readable.stdout).toMatch(/^▸ \w+/m);
    expect(readable.stdout).toMatch(/^✓ done \(\d+ turns/m);
    expect(readable.stdout).not.toContain('{"type"');
    expect(raw.stdout).toContain('{"type":"system"');
    expect(raw.stdout).toContain('{"type":"result"');
  }, 60_000);
});
