import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommand, cliEnv, runCli } from '../test-support/cli.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';
import { call, mcpClient, pinProtocol, textOf } from '../test-support/mcp.js';
import { REAL_CLI_INSTALL_TIMEOUT_MS, realCliBin } from '../test-support/real-cli.js';

const run = promisify(execFile);

/** Issue 19, tests 1 (stdio half) and 2: `mosaic mcp` as a child process, driven by the SDK's client and by the real Claude Code. */
describe('mosaic mcp (stdio)', () => {
  let env: InstanceWithRepo;
  let client: Client;
  let stderr = '';

  beforeAll(async () => {
    env = await startInstanceWithRepo();
    const { command, args } = cliCommand();
    const transport = pinProtocol(new StdioClientTransport({
      command, args: [...args, 'mcp'],
      env: cliEnv({ MOSAIC_HOME: env.t.home, MOSAIC_URL: env.t.url }) as Record<string, string>,
      stderr: 'pipe',
    }));
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    client = mcpClient();
    await client.connect(transport);
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await env?.stop();
  });

  it('serves the instance\'s tools: spawn a command agent, wait, logs, diff, land, list; bad input is isError with the code', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('wait_agents');
    expect(tools).toHaveLength(14);

    const spawned = await call(client, 'spawn_agent', {
      repo: 'app', taskId: 'stdio', prompt: 'write a file', runtime: { kind: 'command', argv: ['sh', '-c', 'echo via stdio > s.txt; echo done writing'] },
    });
    const id = (spawned.structuredContent.agent as { id: string }).id;
    const waited = await call(client, 'wait_agents', { ids: [id], timeoutS: 120 });
    expect(waited.structuredContent).toMatchObject({ timedOut: false, agents: [{ id, state: 'completed' }] });
    expect((await call(client, 'agent_logs', { id })).structuredContent.lines).toContain('done writing');
    expect((await call(client, 'agent_diff', { id, stat: true })).structuredContent).toMatchObject({ files: [{ path: 's.txt', added: 1 }] });
    expect((await call(client, 'land_agent', { id, strategy: 'squash' })).structuredContent.landed).toMatchObject({ strategy: 'squash' });
    const listed = await call(client, 'list_agents', {});
    expect((listed.structuredContent.agents as { id: string }[]).map((a) => a.id)).toContain(id);

    const bad = await call(client, 'land_agent', { id: 'nope' });
    expect(bad.isError).toBe(true);
    expect(bad.structuredContent.error).toMatchObject({ code: 'agent_not_found' });
    expect(textOf(bad)).toBe("agent_not_found: no agent 'nope'");
    expect(stderr).toBe('');
  });

  it('refuses to run inside a Mosaic agent, and says why when the instance cannot be reached', async () => {
    const inside = await runCli(['mcp'], { MOSAIC_HOME: env.t.home, MOSAIC_URL: env.t.url, MOSAIC_AGENT_ID: 'abc' });
    expect(inside.code).toBe(1);
    expect(inside.stdout).toBe('');
    expect(inside.stderr).toContain('mcp_inside_agent');

    const down = await runCli(['mcp'], { MOSAIC_HOME: env.t.home, MOSAIC_URL: 'http://127.0.0.1:9' });
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr).toContain('mcp_unavailable');
  }, 60_000);

  describe('with the real Claude Code CLI', () => {
    let claude: string;
    let home: string;
    beforeAll(() => {
      claude = realCliBin('claude');
      home = mkdtempSync(join(tmpdir(), 'mosaic-claude-home-'));
    }, REAL_CLI_INSTALL_TIMEOUT_MS);
    afterAll(() => rmSync(home, { recursive: true, force: true }));

    it('`claude mcp add mosaic -- mosaic mcp` then `claude mcp list` reports Mosaic connected', async () => {
      const { command, args } = cliCommand();
      const claudeEnv = { ...cliEnv({}), HOME: home };
      // The README's one line, with the instance's home and URL passed as the server's environment (`-e` takes several: name first).
      await run(claude, ['mcp', 'add', '--scope', 'user', 'mosaic', '-e', `MOSAIC_HOME=${env.t.home}`, '-e', `MOSAIC_URL=${env.t.url}`,
        '--', command, ...args, 'mcp'], { env: claudeEnv, timeout: 60_000 });
      const { stdout } = await run(claude, ['mcp', 'list'], { env: claudeEnv, timeout: 120_000 });
      expect(stdout).toMatch(/^mosaic: .* - [✓✔] Connected$/m);
    }, 180_000);
  });
});
