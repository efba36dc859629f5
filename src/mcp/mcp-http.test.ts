import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestWithHost } from '../test-support/http.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';
import { call, mcpClient, pinProtocol, PINNED_PROTOCOL, textOf } from '../test-support/mcp.js';
import { MAX_TOOL_RESULT_BYTES, TOOLS } from './index.js';

const WRITE_FILE = ['sh', '-c', 'echo hello > hello.txt; echo wrote it'];

/** Issue 19, test 1 (HTTP half): the official SDK client against POST /mcp on a real server. */
describe('MCP over Streamable HTTP', () => {
  let env: InstanceWithRepo;
  let client: Client;
  let negotiated: () => string | undefined;

  beforeAll(async () => {
    env = await startInstanceWithRepo();
    const transport = pinProtocol(new StreamableHTTPClientTransport(new URL('/mcp', env.t.url), {
      requestInit: { headers: { authorization: `Bearer ${env.t.adminToken}` } },
    }));
    negotiated = transport.negotiated;
    client = mcpClient();
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close();
    await env?.stop();
  });

  it(`negotiates protocol ${PINNED_PROTOCOL} and lists every tool with a JSON-schema input`, async () => {
    expect(negotiated()).toBe(PINNED_PROTOCOL);
    expect(client.getServerVersion()?.name).toBe('mosaic');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'agent_diff', 'agent_logs', 'conflicts', 'discard_agent', 'get_agent', 'kill_agent', 'land_agent',
      'list_agents', 'list_peers', 'list_repos', 'reply_agent', 'retry_agent', 'spawn_agent', 'wait_agents',
    ]);
    expect(tools.length).toBe(TOOLS.length);
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).toBe('object');
      expect(tool.description!.length, tool.name).toBeGreaterThan(80);
    }
    const spawn = tools.find((t) => t.name === 'spawn_agent')!;
    expect(spawn.inputSchema.required).toEqual(['taskId', 'repo', 'prompt']);
    // The HTTP spawn body's own runtime schema, as plain JSON Schema (no Ajv-only keywords).
    expect(JSON.stringify(spawn.inputSchema.properties!.runtime)).toContain('"argv"');
    expect(JSON.stringify(spawn.inputSchema)).not.toContain('discriminator');
  });

  it('spawns a command agent, waits for it, reads its logs and diff, lands it and lists it', async () => {
    const repos = await call(client, 'list_repos');
    expect((repos.structuredContent.repos as { name: string }[]).map((r) => r.name)).toEqual(['app']);

    const spawned = await call(client, 'spawn_agent', { repo: 'app', taskId: 'hello', prompt: 'write hello', runtime: { kind: 'command', argv: WRITE_FILE } });
    expect(spawned.isError).toBeFalsy();
    const agent = spawned.structuredContent.agent as { id: string; state: string; branch: string };
    expect(agent.state).toBe('queued');
    expect(textOf(spawned)).toContain('wait_agents');

    const waited = await call(client, 'wait_agents', { ids: [agent.id], timeoutS: 120 });
    expect(waited.structuredContent.timedOut).toBe(false);
    const [ended] = waited.structuredContent.agents as { id: string; state: string; result: { commitsAhead: number } }[];
    expect(ended).toMatchObject({ id: agent.id, state: 'completed' });
    expect(ended!.result.commitsAhead).toBe(1);

    const logs = await call(client, 'agent_logs', { id: agent.id, tail: 10 });
    expect(logs.structuredContent).toMatchObject({ id: agent.id, ended: true });
    expect(logs.structuredContent.lines).toContain('wrote it');

    const stat = await call(client, 'agent_diff', { id: agent.id, stat: true });
    expect(stat.structuredContent).toMatchObject({ filesChanged: 1, insertions: 1, files: [{ path: 'hello.txt', added: 1, removed: 0 }] });
    const diff = await call(client, 'agent_diff', { id: agent.id });
    expect(diff.structuredContent.diff).toContain('+hello');
    expect(textOf(diff)).toContain('hello.txt');

    expect((await call(client, 'conflicts', { repo: 'app' })).structuredContent).toMatchObject({ repo: 'app', pairs: [], base: [] });

    const landed = await call(client, 'land_agent', { id: agent.id });
    expect(landed.isError).toBeFalsy();
    expect(landed.structuredContent.landed).toMatchObject({ into: 'main', strategy: 'merge' });

    const listed = await call(client, 'list_agents', { repo: 'app' });
    const found = (listed.structuredContent.agents as { id: string; landed: unknown }[]).find((a) => a.id === agent.id);
    expect(found?.landed).toMatchObject({ into: 'main' });
    expect((await call(client, 'get_agent', { id: agent.id })).structuredContent.agent).toMatchObject({ id: agent.id, state: 'completed' });

    const replied = await call(client, 'reply_agent', { id: agent.id, prompt: 'now also write a second file' });
    expect(replied.isError).toBeFalsy();
    const followUp = replied.structuredContent.agent as { id: string; followUpOf: { agentId: string } };
    expect(followUp.followUpOf.agentId).toBe(agent.id);
    const followed = await call(client, 'wait_agents', { ids: [followUp.id], timeoutS: 120 });
    expect(followed.structuredContent.timedOut).toBe(false);
  });

  it('kills, retries and discards, and wait_agents reports a timeout while one still runs', async () => {
    const slow = { repo: 'app', prompt: 'sleep', runtime: { kind: 'command', argv: ['sleep', '60'] } };
    const first = (await call(client, 'spawn_agent', { ...slow, taskId: 'slow' })).structuredContent.agent as { id: string };
    const timedOut = await call(client, 'wait_agents', { ids: [first.id], timeoutS: 1 });
    expect(timedOut.structuredContent.timedOut).toBe(true);
    expect(textOf(timedOut)).toContain('still working');

    expect((await call(client, 'kill_agent', { id: first.id })).structuredContent.agent).toMatchObject({ id: first.id, killRequested: true });
    const killed = await call(client, 'wait_agents', { ids: [first.id], timeoutS: 60 });
    expect((killed.structuredContent.agents as { state: string }[])[0]!.state).toBe('killed');

    const retried = await call(client, 'retry_agent', { id: first.id });
    const second = retried.structuredContent.agent as { id: string; retryOf: { agentId: string } };
    expect(second.retryOf.agentId).toBe(first.id);
    await call(client, 'kill_agent', { id: second.id });
    await call(client, 'wait_agents', { ids: [second.id], timeoutS: 60 });

    expect((await call(client, 'discard_agent', { id: first.id })).structuredContent).toEqual({ discarded: first.id });
    expect((await call(client, 'get_agent', { id: first.id })).structuredContent.error).toMatchObject({ code: 'agent_not_found' });
  });

  it('answers bad input with isError and Mosaic\'s error code, never a protocol error', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['spawn_agent', { taskId: 'x', prompt: 'p' }, 'missing_repo'],
      ['spawn_agent', { repo: 'app', taskId: '../x', prompt: 'p' }, 'invalid_task_id'],
      ['spawn_agent', { repo: 'nope', taskId: 'x', prompt: 'p' }, 'unknown_repo'],
      ['spawn_agent', { repo: 'app', taskId: 'x', prompt: 'p', runtime: { kind: 'command', argv: 'ls' } }, 'invalid_runtime'],
      ['spawn_agent', { repo: 'app', taskId: 'x', prompt: 'p', shell: true }, 'unknown_field'],
      ['get_agent', { id: 'nope' }, 'agent_not_found'],
      ['wait_agents', { ids: [] }, 'invalid_ids'],
      ['wait_agents', { ids: ['a'], timeoutS: 601 }, 'invalid_timeout_s'],
      ['conflicts', { repo: 'nope' }, 'repo_not_found'],
    ];
    for (const [tool, args, code] of cases) {
      const result = await call(client, tool, args);
      expect(result.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect((result.structuredContent.error as { code: string }).code, `${tool} ${JSON.stringify(args)}`).toBe(code);
      expect(textOf(result)).toMatch(new RegExp(`^${code}: `));
    }
  });

  it('keeps a whole result under 100 KB (a 127 KB prompt is cut with a note)', async () => {
    const prompt = 'p'.repeat(127 * 1024);
    const spawned = await call(client, 'spawn_agent', { repo: 'app', taskId: 'big', prompt, runtime: { kind: 'command', argv: ['true'] } });
    expect(spawned.isError).toBeFalsy();
    for (const result of [spawned, await call(client, 'get_agent', { id: (spawned.structuredContent.agent as { id: string }).id })]) {
      const size = Buffer.byteLength(textOf(result)) + Buffer.byteLength(JSON.stringify(result.structuredContent));
      expect(size).toBeLessThanOrEqual(MAX_TOOL_RESULT_BYTES);
      expect(result.structuredContent.truncated).toBe(true);
      expect(textOf(result)).toContain('Result cut to fit 100 KB');
    }
  });

  it('answers 401 without the admin token, 421 under a foreign Host, 403 to a foreign Origin, 405 to GET', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: PINNED_PROTOCOL, capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const post = (extra: Record<string, string>) => fetch(`${env.t.url}/mcp`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(init) });
    const anonymous = await post({});
    expect(anonymous.status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${env.t.adminToken}` })).status).toBe(200);

    const port = new URL(env.t.url).port;
    const rebound = await requestWithHost(`${env.t.url}/mcp`, `evil.example:${port}`, {
      method: 'POST', headers: { ...headers, authorization: `Bearer ${env.t.adminToken}` }, body: JSON.stringify(init),
    });
    expect(rebound.status).toBe(421);
    const foreignOrigin = await post({ authorization: `Bearer ${env.t.adminToken}`, origin: 'http://evil.example' });
    expect(foreignOrigin.status).toBe(403);
    expect((await foreignOrigin.json() as { error: { code: string } }).error.code).toBe('cross_origin_refused');
    expect((await post({ authorization: `Bearer ${env.t.adminToken}`, origin: env.t.url })).status).toBe(200);

    const get = await fetch(`${env.t.url}/mcp`, { headers: { authorization: `Bearer ${env.t.adminToken}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});
