import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from './index.js';
import { groupAlive, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';
import { REAL_CLI_INSTALL_TIMEOUT_MS, realCliBin } from '../test-support/real-cli.js';

/** Variables that would log a CLI in: never seen by these runs. */
const KEY_VARS = ['OPENAI_API_KEY', 'CODEX_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GENAI_USE_VERTEXAI', 'GOOGLE_GENAI_USE_GCA', 'ANTHROPIC_API_KEY', 'CODEX_HOME'];

/**
 * Issue 18, test 2: the real Codex CLI, Gemini CLI and opencode, offline and
 * without credentials (a private HOME: no real login is ever read), end
 * `failed` with the CLI's own message in under 30 s and leave nothing
 * running. Codex would retry "Reconnecting…" for ever (its login is checked
 * first); Gemini CLI says it on stderr and exits 41; opencode waits silently
 * on the network (runtime_silent after MOSAIC_RUNTIME_FIRST_EVENT_S).
 */
describe('the real headless CLIs without credentials', () => {
  let env: InstanceWithRepo;
  /** The same with MOSAIC_RUNTIME_FIRST_EVENT_S 15, for opencode (its silence must end in under 30 s). */
  let quick: InstanceWithRepo;
  let home: string;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    const bins = { codexBin: realCliBin('codex'), geminiBin: realCliBin('gemini'), opencodeBin: realCliBin('opencode') };
    home = mkdtempSync(join(tmpdir(), 'mosaic-private-home-'));
    for (const name of ['HOME', ...KEY_VARS]) saved[name] = process.env[name];
    for (const name of KEY_VARS) delete process.env[name];
    process.env.HOME = home;
    // Unsandboxed, so the agents' HOME is the private one (a sandbox would bind the CLIs from under the
    // real HOME, which as root its agent user cannot reach once HOME is elsewhere).
    env = await startInstanceWithRepo({ config: { ...bins, sandbox: 'off' } });
    quick = await startInstanceWithRepo({ config: { ...bins, runtimeFirstEventS: 15, sandbox: 'off' } });
  }, REAL_CLI_INSTALL_TIMEOUT_MS);
  afterAll(async () => {
    await env?.stop();
    await quick?.stop();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(home, { recursive: true, force: true });
  });

  const run = async (kind: string, on = env): Promise<{ agent: PublicAgent; ms: number }> => {
    const started = Date.now();
    const res = await on.t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: `real-${kind}`, prompt: 'say hello', runtime: { kind } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const agent = await waitForState(on.t, res.body.id, ['completed', 'failed', 'killed'], 120_000);
    const ms = Date.now() - started;
    // Nothing left running: the agent's whole process group is gone.
    if (agent.pgid !== null) expect(groupAlive(agent.pgid)).toBe(false);
    return { agent, ms };
  };

  it('codex: failed/not_logged_in with "Not logged in", from the login check, before any exec', async () => {
    const { agent, ms } = await run('codex');
    expect(agent.state).toBe('failed');
    expect(agent.error).toMatchObject({ code: 'not_logged_in', message: expect.stringContaining('Not logged in') });
    expect(agent.pid).toBeNull();
    expect(ms).toBeLessThan(30_000);
  }, 180_000);

  it('gemini: failed/not_logged_in with its stderr message and exit 41', async () => {
    const { agent, ms } = await run('gemini');
    expect(agent.state).toBe('failed');
    expect(agent.error).toMatchObject({ code: 'not_logged_in', message: expect.stringContaining('Please set an Auth method') });
    expect(agent.exitCode).toBe(41);
    expect(ms).toBeLessThan(30_000);
  }, 180_000);

  it('opencode: prints nothing offline, so it ends failed/runtime_silent after MOSAIC_RUNTIME_FIRST_EVENT_S', async () => {
    const { agent, ms } = await run('opencode', quick);
    expect(agent.state).toBe('failed');
    expect(agent.error).toMatchObject({ code: 'runtime_silent', message: expect.stringContaining('within 15 s') });
    expect(ms).toBeLessThan(30_000);
  }, 180_000);
});
