import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { startPair, TEST_GRANTS, type Pair } from '../test-support/federation.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

type ErrorBody = { error: { code: string; message: string; details?: { field?: string } } };

/**
 * Issue 7, must-hold 13: validation at the edge, not at launch. Model names,
 * permission modes and maxTurns are checked when the spawn arrives (a peer
 * gets a 400, not a 202 and a failed agent); copyFiles under `.git` is
 * refused at registration; JSON bodies are never coerced.
 */
describe('validation at the edge', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  const valid = { repo: 'app', taskId: 'ok', prompt: 'p', runtime: { kind: 'command', argv: ['true'] } };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo();
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  const cases: [string, Record<string, unknown>, string][] = [
    ['a numeric prompt', { prompt: 12345 }, 'invalid_prompt'],
    ['a prompt array', { prompt: ['p'] }, 'invalid_prompt'],
    ['argv as a string', { runtime: { kind: 'command', argv: 'true' } }, 'invalid_runtime'],
    ['argv with a number', { runtime: { kind: 'command', argv: ['echo', 1] } }, 'invalid_runtime'],
    ['priority as a string', { priority: '5' }, 'invalid_priority'],
    ['timeoutS as a string', { timeoutS: '10' }, 'invalid_timeout_s'],
    ['a model with a space', { runtime: { kind: 'claude', model: 'opus; rm -rf' } }, 'invalid_runtime'],
    ['a model starting with -', { runtime: { kind: 'claude', model: '--dangerously-skip-permissions' } }, 'invalid_runtime'],
    ['an unknown permission mode', { runtime: { kind: 'claude', permissionMode: 'yolo' } }, 'invalid_runtime'],
    ['maxTurns 0', { runtime: { kind: 'claude', maxTurns: 0 } }, 'invalid_runtime'],
    ['maxTurns as a string', { runtime: { kind: 'claude', maxTurns: '5' } }, 'invalid_runtime'],
    ['a blank claude prompt', { prompt: '   ', runtime: { kind: 'claude' } }, 'invalid_prompt'],
  ];

  for (const [what, patch, code] of cases) {
    it(`refuses a spawn with ${what} before creating an agent`, async () => {
      const before = (await t.store.agents.list()).length;
      const res = await t.api<ErrorBody>('POST', '/agents', { ...valid, ...patch });
      expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 400, code });
      expect((await t.store.agents.list()).length).toBe(before);
    });
  }

  it('still coerces query strings (they are text on the wire)', async () => {
    const agent = await t.api<PublicAgent>('POST', '/agents', valid);
    expect(agent.status).toBe(202);
    const logs = await t.api<{ lines: string[] }>('GET', `/agents/${agent.body.id}/logs?after=0&limit=5`);
    expect(logs.status).toBe(200);
    expect(Array.isArray(logs.body.lines)).toBe(true);
  });

  it('refuses copyFiles entries under .git at registration', async () => {
    for (const entry of ['.git/config', '.git', 'sub/.git/hooks/x', './.GIT/config']) {
      const res = await t.api<ErrorBody>('POST', '/repos', { name: 'gitcopy', path: repo.path, copyFiles: [entry] });
      expect({ entry, status: res.status, code: res.body.error.code }).toEqual({ entry, status: 400, code: 'invalid_copy_file' });
    }
    expect((await t.api('GET', '/repos/gitcopy')).status).toBe(404);
  });

  it('refuses copyFiles entries with control characters, at registration and when edited', async () => {
    const entries = ['.env\n.git/config', 'a\rb', '.env\u001b[2J', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085'];
    for (const entry of entries) {
      const res = await t.api<ErrorBody>('POST', '/repos', { name: 'ctlcopy', path: repo.path, copyFiles: [entry] });
      expect({ entry, status: res.status, code: res.body.error.code }).toEqual({ entry, status: 400, code: 'invalid_copy_file' });
      const edit = await t.api<ErrorBody>('PATCH', '/repos/app', { copyFiles: ['.env', entry] });
      expect({ entry, status: edit.status, code: edit.body.error.code }).toEqual({ entry, status: 400, code: 'invalid_copy_file' });
    }
    expect((await t.api('GET', '/repos/ctlcopy')).status).toBe(404);
    expect((await t.api<{ copyFiles: string[] }>('GET', '/repos/app')).body.copyFiles).not.toContain('.env');
  });
});

describe('validation at the edge, for a peer', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({ grants: { ...TEST_GRANTS, runtimes: ['command', 'claude'] } });
  });
  afterAll(async () => {
    await pair.stop();
  });

  it('answers a peer 400 for a bad model, permission mode or maxTurns, and creates nothing', async () => {
    const runtimes = [
      { kind: 'claude', model: 'bad model' },
      { kind: 'claude', permissionMode: 'yolo' },
      { kind: 'claude', maxTurns: 0 },
    ];
    for (const runtime of runtimes) {
      const res = await pair.hub.api<ErrorBody & PublicAgent>('POST', '/agents', { peer: 'spoke', repo: 'web', taskId: 'bad', prompt: 'p', runtime });
      expect(res.status, JSON.stringify(runtime)).toBe(400);
    }
    expect(await pair.spoke.store.agents.list()).toEqual([]);
  });

  it('accepts every permission mode the claude CLI knows from a peer too', async () => {
    const res = await pair.hub.api<PublicAgent>('POST', '/agents', {
      peer: 'spoke', repo: 'web', taskId: 'mode', prompt: 'p', runtime: { kind: 'claude', permissionMode: 'dontAsk' },
    });
    expect(res.status).toBe(202);
  });
});
