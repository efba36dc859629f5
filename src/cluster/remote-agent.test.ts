import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { startTestCluster, type TestCluster, type TestNode } from '../test-support/cluster.js';
import { readSse } from '../test-support/sse.js';
import type { TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';

/** Node c's monitor looks every 3 s: a kill that only waited for it would take that long. */
const C_POLL_MS = 3000;

/**
 * Issue 21, test 4 (land aside): from node a, list, logs, diff and kill an
 * agent that runs on node c; GET /events on node b sees node c's events. And
 * every admin token of the cluster works on every node's MCP endpoint, A2A
 * endpoint and dashboard sign-in; A2A client tokens minted on one node work on another.
 */
describe('one API from any node (real PostgreSQL, 3 node processes)', () => {
  let c: TestCluster;
  let a: TestNode;
  let b: TestNode;
  let nodeC: TestNode;
  beforeAll(async () => {
    c = await startTestCluster(['a', 'b', 'c'], {}, { nodes: { c: { env: { MOSAIC_POLL_MS: String(C_POLL_MS) } } } });
    [a, b, nodeC] = c.nodes as [TestNode, TestNode, TestNode];
  }, 150_000);
  afterAll(async () => { await c?.stop(); }, 60_000);

  it('from node a: list, logs, diff and kill of an agent on node c (forwarded, signed); events on node b show it', async () => {
    const from = Number((await c.sql<{ seq: string }>('SELECT COALESCE(max(seq), 0) AS seq FROM events'))[0]?.seq);
    let agentId: string | undefined;
    const ended = (events: { event?: string; data: string }[]) => agentId !== undefined && events.some((e) => e.event === 'agent.state'
      && (JSON.parse(e.data) as { id: string; state: string }).id === agentId && (JSON.parse(e.data) as { state: string }).state === 'killed');
    const onB = readSse(b as unknown as TestInstance, '/events', ended, { lastEventId: from, timeoutMs: 90_000 });

    const killedAt = join(c.repo.dir, 'killed-at');
    const script = [
      `trap 'date +%s%3N > ${killedAt}; exit 143' TERM`,
      'printf "# test\\nchanged on c\\n" > README.md', 'printf "new\\n" > made-on-c.txt', 'echo from-c',
      'while true; do sleep 0.05; done',
    ].join('; ');
    const agent = await c.spawn(a, script, { node: 'c' });
    agentId = agent.id;
    await c.waitState(agent.id, ['running']);

    // List on a shows it with its node.
    const listed = await a.api<{ agents: PublicAgent[] }>('GET', '/agents');
    expect(listed.body.agents.find((x) => x.id === agent.id)?.node).toBe('c');
    const logs = await waitFor(async () => {
      const res = await a.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`);
      return res.status === 200 && res.body.lines.includes('from-c') ? res.body : undefined;
    }, { timeoutMs: 20_000, what: 'the log read through node a' });
    expect(logs.lines).toContain('from-c');
    // The diff through a is c's answer byte for byte: the tracked file's change and the new file.
    const diffOf = async (node: TestNode) => {
      const res = await fetch(`${node.url}/api/v1/agents/${agent.id}/diff`, { headers: { authorization: `Bearer ${node.adminToken}` } });
      return { status: res.status, text: await res.text() };
    };
    const viaA = await waitFor(async () => {
      const res = await diffOf(a);
      return res.status === 200 && res.text.includes('made-on-c.txt') && res.text.includes('README.md') ? res.text : undefined;
    }, { timeoutMs: 20_000, what: 'the live diff through node a' });
    expect(viaA).toMatch(/^\+changed on c$/m);
    expect(viaA).toMatch(/^\+new$/m);
    expect(viaA).toContain('--- /dev/null');
    expect(viaA).toBe((await diffOf(nodeC)).text);
    // The internal route answers nodes only.
    const internal = `${nodeC.url}/api/v1/cluster/internal/agents/${agent.id}/kill`;
    expect((await fetch(internal, { method: 'POST' })).status).toBe(401);
    expect((await fetch(internal, { method: 'POST', headers: { authorization: `Bearer ${nodeC.adminToken}` } })).status).toBe(401);
    expect(existsSync(killedAt)).toBe(false);

    // Kill through a: forwarded to c, which signals it at once (its monitor would take up to C_POLL_MS).
    const asked = Date.now();
    expect((await a.api('POST', `/agents/${agent.id}/kill`)).status).toBeLessThan(300);
    const signalled = await waitFor(async () => (existsSync(killedAt) ? Number(readFileSync(killedAt, 'utf8').trim()) : undefined),
      { timeoutMs: 20_000, intervalMs: 20, what: 'the agent to get its SIGTERM' });
    expect(signalled - asked).toBeLessThan(C_POLL_MS / 2);
    const killed = await c.waitState(agent.id, ['killed', 'failed', 'completed'], 30_000);
    expect([killed.state, killed.node]).toEqual(['killed', 'c']);
    // After it ended, the diff through a still shows its work (its snapshot on the branch).
    const after = await diffOf(a);
    expect(after.text).toMatch(/^\+changed on c$/m);
    expect(after.text).toContain('made-on-c.txt');

    // Node b streamed node c's events for it, in order.
    const streamed = (await onB).events.filter((e) => e.event === 'agent.state')
      .map((e) => JSON.parse(e.data) as { id: string; state: string }).filter((x) => x.id === agent.id).map((x) => x.state);
    expect(streamed).toEqual(['queued', 'spawning', 'running', 'killed']);
    console.info(`remote kill: SIGTERM ${signalled - asked} ms after the kill was asked on another node (c's monitor polls every ${C_POLL_MS} ms)`);
  }, 120_000);

  it('a token of any node works on every node: MCP, A2A (admin and client tokens) and the dashboard sign-in', async () => {
    const mcp = (node: TestNode, token: string) => fetch(`${node.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    expect((await mcp(b, a.adminToken)).status).toBe(200);
    expect((await mcp(b, 'not-a-token')).status).toBe(401);

    const a2a = (node: TestNode, token: string) => fetch(`${node.url}/a2a`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tasks/get', params: { id: 'no-such-task' } }),
    });
    expect((await a2a(b, a.adminToken)).status).toBe(200);
    expect((await a2a(b, 'not-a-token')).status).toBe(401);
    const minted = await a.api<{ id: string; token: string }>('POST', '/a2a/tokens', {});
    expect(minted.status).toBe(201);
    expect((await a2a(nodeC, minted.body.token)).status).toBe(200);
    expect((await b.api('DELETE', `/a2a/tokens/${minted.body.id}`)).status).toBe(200);
    expect((await a2a(nodeC, minted.body.token)).status).toBe(401);

    const signIn = (node: TestNode, token: string) => fetch(`${node.url}/api/v1/dashboard/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', origin: node.url, 'x-mosaic-request': '1' }, body: JSON.stringify({ token }),
    });
    const signedIn = await signIn(b, nodeC.adminToken);
    expect(signedIn.status).toBe(200);
    const cookie = signedIn.headers.get('set-cookie')?.split(';')[0] ?? '';
    expect((await fetch(`${b.url}/api/v1/cluster`, { headers: { cookie } })).status).toBe(200);
    expect((await signIn(b, 'not-a-token')).status).toBe(401);
  }, 60_000);
});
