import { TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import { ClientFactory, JsonRpcTransportFactory, type Client } from '@a2a-js/sdk/client';
import { parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';
import { sql } from '../store/kysely.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { a2aClient, bearerFetch, rpcFailure, sendRequest, userMessage } from '../test-support/a2a.js';
import { runCli } from '../test-support/cli.js';
import { requestWithHost } from '../test-support/http.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';
import { sandboxAvailable } from '../test-support/sandbox.js';

const WRITE = { kind: 'command', argv: ['sh', '-c', 'echo from a2a > a2a.txt; echo wrote the file'] };
const SLEEP = { kind: 'command', argv: ['sleep', '120'] };

interface Minted {
  id: string;
  token: string;
  grants: Record<string, unknown>;
}

const textOf = (task: Task, artifact: string): string => {
  const found = task.artifacts.find((a) => a.name === artifact);
  return found?.parts.map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('') ?? '';
};

/** Issue 19, test 3: the official @a2a-js/sdk client against a real server, with scoped client tokens. */
describe.skipIf(!sandboxAvailable())('A2A endpoint', () => {
  let env: InstanceWithRepo;
  let worker: Minted;
  let client: Client;

  const mint = async (grants: Record<string, unknown>): Promise<Minted> => {
    const res = await env.t.api<Minted>('POST', '/a2a/tokens', { grants });
    expect(res.status).toBe(201);
    return res.body;
  };
  const agent = async (id: string) => (await env.t.api<PublicAgent>('GET', `/agents/${id}`)).body;
  const agentCount = async () => (await env.t.api<{ agents: unknown[] }>('GET', '/agents')).body.agents.length;

  beforeAll(async () => {
    env = await startInstanceWithRepo();
    worker = await mint({ repos: ['app'], runtimes: ['command'], maxActiveAgents: 2 });
    client = await a2aClient(env.t.url, worker.token);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('serves an agent card (v1.0 with a v0.3 interface; v0.3 form without a version header) that the SDK resolves', async () => {
    const card = await client.getAgentCard();
    expect(client.protocolVersion).toBe('1.0');
    expect(card.supportedInterfaces.map((i) => [i.url, i.protocolBinding, i.protocolVersion])).toEqual([
      [`${env.t.url}/a2a`, 'JSONRPC', '1.0'], [`${env.t.url}/a2a`, 'JSONRPC', '0.3'],
    ]);
    expect(card.capabilities?.streaming).toBe(true);
    expect(card.skills[0]!.examples.length).toBeGreaterThan(0);
    expect(card.securitySchemes.bearer?.scheme?.$case).toBe('httpAuthSecurityScheme');

    const legacy = await (await fetch(`${env.t.url}/.well-known/agent-card.json`)).json() as Record<string, unknown>;
    expect(legacy).toMatchObject({ url: `${env.t.url}/a2a`, preferredTransport: 'JSONRPC', protocolVersion: '0.3.0' });
    expect(parseLegacyAgentCard(legacy as never).name).toBe(card.name);
  });

  it('spawns an agent from a message, streams its status to completed, and GetTask carries its artifacts', async () => {
    const events: StreamResponse[] = [];
    for await (const event of client.sendMessageStream(sendRequest(userMessage('write a2a.txt', { repo: 'app', taskId: 'from-a2a', runtime: WRITE })))) events.push(event);
    const first = events[0]!.payload;
    expect(first?.$case).toBe('task');
    const id = first?.$case === 'task' ? first.value.id : '';
    expect(first?.$case === 'task' && first.value.contextId).toBe('from-a2a');
    const last = events.at(-1)!.payload;
    expect(last?.$case === 'statusUpdate' && last.value.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(events.filter((e) => e.payload?.$case === 'artifactUpdate').map((e) => e.payload?.$case === 'artifactUpdate' && e.payload.value.artifact?.name))
      .toEqual(['summary', 'diff-stat', 'branch']);

    const task = await client.getTask({ tenant: '', id });
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(textOf(task, 'summary')).toContain('wrote the file');
    expect(textOf(task, 'summary')).toContain('1 commit(s), 1 file(s) changed');
    expect(textOf(task, 'diff-stat')).toContain('a2a.txt | +1 -0');
    const record = await agent(id);
    expect(textOf(task, 'branch')).toBe(record.branch);
    // An A2A client's agent is never local: sandboxed like a peer's, and marked with the token that spawned it.
    expect(record).toMatchObject({ state: 'completed', origin: `a2a:${worker.id}`, sandbox: 'bubblewrap', limits: { shell: false, network: 'host' } });
    // ...and, unlike a peer's, it queues nothing for federation delivery.
    const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM federation_outbox`.execute(env.t.store.sql.db);
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('continues a finished task with a message referencing it: a follow-up on its branch, in its context; anything else is refused', async () => {
    const append = { kind: 'command', argv: ['sh', '-c', 'echo line >> a2a.txt; echo appended'] };
    const first = await client.sendMessage(sendRequest(userMessage('append to a2a.txt', { repo: 'app', taskId: 'refine-me', runtime: append }))) as Task;
    expect(first.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const refine = userMessage('and once more', undefined, { contextId: 'refine-me', referenceTaskIds: [first.id] });
    const next = await client.sendMessage(sendRequest(refine)) as Task;
    expect(next.id).not.toBe(first.id);
    expect(next.contextId).toBe('refine-me');
    expect(next.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const record = await agent(next.id);
    // It started on the first task's tip, so its branch holds both commits; it is the token's, sandboxed like the first.
    expect(record).toMatchObject({ origin: `a2a:${worker.id}`, sandbox: 'bubblewrap', followUpOf: { agentId: first.id, continue: true } });
    expect(textOf(await client.getTask({ tenant: '', id: next.id }), 'summary')).toContain('2 commit(s)');
    // The same message again (a client's retry) is the same follow-up, not a second one.
    expect(((await client.sendMessage(sendRequest(refine))) as Task).id).toBe(next.id);

    const before = await agentCount();
    const running = await client.sendMessage(sendRequest(userMessage('sleep', { repo: 'app', runtime: SLEEP }), true)) as Task;
    const refused: [Partial<Parameters<typeof userMessage>[2]>, Record<string, unknown> | undefined, string][] = [
      [{ referenceTaskIds: [running.id] }, undefined, 'agent_not_finished'],
      [{ referenceTaskIds: ['nosuchtask'] }, undefined, 'task_not_found'],
      [{ referenceTaskIds: [first.id, next.id] }, undefined, 'too_many_reference_tasks'],
      [{ referenceTaskIds: [first.id] }, { repo: 'app' }, 'follow_up_fields_unsupported'],
      [{ taskId: first.id }, undefined, 'task_follow_up_unsupported'],
    ];
    for (const [extra, data, code] of refused) {
      expect((await rpcFailure(client.sendMessage(sendRequest(userMessage('more', data, extra), true)))).code, code).toBe(code);
    }
    // Another token's task is not this token's to continue: not found, as for any of its ids.
    const other = await a2aClient(env.t.url, (await mint({ repos: ['app'], runtimes: ['command'], maxActiveAgents: 1 })).token);
    expect((await rpcFailure(other.sendMessage(sendRequest(userMessage('mine now', undefined, { referenceTaskIds: [first.id] }), true)))).code).toBe('task_not_found');
    expect(await agentCount()).toBe(before + 1);
    await client.cancelTask({ tenant: '', id: running.id, metadata: undefined });
  });

  it('cancels a running task: the agent ends killed and the task canceled', async () => {
    const sent = await client.sendMessage(sendRequest(userMessage('sleep', { repo: 'app', runtime: SLEEP }), true));
    const task = sent as Task;
    expect([TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING]).toContain(task.status?.state);
    await env.t.api('GET', `/agents/${task.id}`);
    await waitForState(task.id, 'running');
    const canceled = await client.cancelTask({ tenant: '', id: task.id, metadata: undefined });
    expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    expect((await agent(task.id)).state).toBe('killed');
    expect((await client.getTask({ tenant: '', id: task.id })).status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    expect((await rpcFailure(client.cancelTask({ tenant: '', id: task.id, metadata: undefined }))).code).toBe('agent_not_active');
  });

  it('refuses what the token does not grant, as JSON-RPC errors with Mosaic\'s codes, spawning nothing', async () => {
    const before = await agentCount();
    const cases: [Record<string, unknown> | undefined, string][] = [
      [undefined, 'missing_repo'],
      [{ runtime: WRITE }, 'missing_repo'],
      [{ repo: 'other', runtime: WRITE }, 'repo_not_granted'],
      [{ repo: 'app' }, 'runtime_not_granted'],
      [{ repo: 'app', runtime: { kind: 'claude' } }, 'runtime_not_granted'],
      [{ repo: 'app', runtime: WRITE, shell: true }, 'unknown_field'],
    ];
    for (const [data, code] of cases) {
      const failure = await rpcFailure(client.sendMessage(sendRequest(userMessage('do it', data), true)));
      expect(failure.code, JSON.stringify(data)).toBe(code);
    }
    expect((await rpcFailure(client.sendMessage(sendRequest(userMessage('x', {}), true)))).message).toMatch(/^missing_repo: .*'repo'/);
    expect(await agentCount()).toBe(before);
  });

  it('holds a token to its maximum of active agents, and a token sees and cancels only its own tasks', async () => {
    const single = await mint({ repos: ['app'], runtimes: ['command'], maxActiveAgents: 1 });
    const one = await a2aClient(env.t.url, single.token);
    const running = await one.sendMessage(sendRequest(userMessage('sleep', { repo: 'app', runtime: SLEEP }), true)) as Task;
    const before = await agentCount();
    expect((await rpcFailure(one.sendMessage(sendRequest(userMessage('again', { repo: 'app', runtime: SLEEP }), true)))).code).toBe('max_agents_exceeded');
    expect(await agentCount()).toBe(before);

    // The other token's task and an unknown id are the same: not found.
    for (const id of [running.id, 'nosuchtask']) {
      expect((await rpcFailure(client.getTask({ tenant: '', id }))).code, id).toBe('task_not_found');
      expect((await rpcFailure(client.cancelTask({ tenant: '', id, metadata: undefined }))).code, id).toBe('task_not_found');
    }
    const listed = await one.listTasks({ tenant: '', contextId: '', status: TaskState.TASK_STATE_UNSPECIFIED, pageToken: '', statusTimestampAfter: undefined, includeArtifacts: false });
    expect(listed.tasks.map((t) => t.id)).toEqual([running.id]);
    const mine = await client.listTasks({ tenant: '', contextId: '', status: TaskState.TASK_STATE_UNSPECIFIED, pageToken: '', statusTimestampAfter: undefined, includeArtifacts: false });
    expect(mine.tasks.map((t) => t.id)).not.toContain(running.id);
    expect(mine.totalSize).toBeGreaterThanOrEqual(2);

    await one.cancelTask({ tenant: '', id: running.id, metadata: undefined });
    // A revoked token is refused at once (401), whatever it asks.
    expect((await env.t.api('DELETE', `/a2a/tokens/${single.id}`)).status).toBe(200);
    const revoked = await fetch(`${env.t.url}/a2a`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${single.token}`, 'a2a-version': '1.0' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: running.id } }),
    });
    expect(revoked.status).toBe(401);
    await expect(a2aClient(env.t.url, single.token).then((c) => c.getTask({ tenant: '', id: running.id }))).rejects.toThrow();
    const listedTokens = await env.t.api<{ tokens: Record<string, unknown>[] }>('GET', '/a2a/tokens');
    expect(listedTokens.body.tokens.find((t) => t.id === single.id)).toMatchObject({ revokedAt: expect.any(Number) });
    expect(JSON.stringify(listedTokens.body)).not.toContain(single.token);
  });

  it('works with the v0.3 compatibility layer (a v0.3 JSON-RPC client through the SDK\'s legacy transport)', async () => {
    const card = await client.getAgentCard();
    const legacyOnly = { ...card, supportedInterfaces: card.supportedInterfaces.filter((i) => i.protocolVersion === '0.3') };
    const legacy = await new ClientFactory({ transports: [new JsonRpcTransportFactory({ fetchImpl: bearerFetch(worker.token), legacyCompat: { enabled: true } })] })
      .createFromAgentCard(legacyOnly);
    expect(legacy.protocolVersion).toBe('0.3');
    const task = await legacy.sendMessage(sendRequest(userMessage('write it', { repo: 'app', runtime: WRITE }))) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(textOf(await legacy.getTask({ tenant: '', id: task.id }), 'diff-stat')).toContain('a2a.txt');
    expect((await rpcFailure(legacy.sendMessage(sendRequest(userMessage('x', { repo: 'other', runtime: WRITE }), true)))).code).toBe('repo_not_granted');
  });

  it('mints, lists and revokes tokens with the CLI (the secret printed once, never listed), and agents list shows the a2a origin', async () => {
    const cli = (...args: string[]) => runCli(args, { MOSAIC_HOME: env.t.home, MOSAIC_URL: env.t.url });
    const created = await cli('a2a', 'tokens', 'create', '--repos', 'app', '--runtimes', 'claude,command', '--max-agents', '3', '--json');
    expect(created.code, created.stderr).toBe(0);
    const token = JSON.parse(created.stdout) as Minted;
    expect(token.token).toMatch(/^mosaic_a2a_[A-Za-z0-9_-]{43}$/);
    expect(token.grants).toMatchObject({ repos: ['app'], runtimes: ['claude', 'command'], maxActiveAgents: 3 });
    const listed = await cli('a2a', 'tokens', 'list');
    expect(listed.stdout).toContain(token.id);
    expect(listed.stdout).not.toContain(token.token);
    expect((await cli('a2a', 'tokens', 'revoke', token.id)).code).toBe(0);
    const after = JSON.parse((await cli('a2a', 'tokens', 'list', '--json')).stdout) as { tokens: { id: string; revokedAt: number | null }[] };
    expect(after.tokens.find((t) => t.id === token.id)?.revokedAt).toEqual(expect.any(Number));
    const again = await cli('a2a', 'tokens', 'revoke', token.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('token_revoked');
    const agents = await cli('agents', 'list');
    expect(agents.stdout).toContain('ORIGIN');
    expect(agents.stdout).toContain(`a2a:${worker.id}`);
  }, 240_000);

  it('answers 401 without a token, 421 under a foreign Host and 403 to a foreign Origin', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'GetTask', params: { id: 'x' } });
    const headers = { 'content-type': 'application/json', 'a2a-version': '1.0' };
    expect((await fetch(`${env.t.url}/a2a`, { method: 'POST', headers, body })).status).toBe(401);
    const port = new URL(env.t.url).port;
    const rebound = await requestWithHost(`${env.t.url}/a2a`, `evil.example:${port}`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${worker.token}` }, body });
    expect(rebound.status).toBe(421);
    expect((await requestWithHost(`${env.t.url}/.well-known/agent-card.json`, `evil.example:${port}`)).status).toBe(421);
    const foreign = await fetch(`${env.t.url}/a2a`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${worker.token}`, origin: 'http://evil.example' }, body });
    expect(foreign.status).toBe(403);
  });

  async function waitForState(id: string, state: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((await agent(id)).state !== state) {
      if (Date.now() > deadline) throw new Error(`agent ${id} never reached ${state}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});
