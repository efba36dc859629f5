import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { startTestCluster, type TestCluster, type TestNode } from '../test-support/cluster.js';
import { FAKE_CLAUDE_BIN } from '../test-support/index.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { waitFor } from '../test-support/wait.js';

/** Node b sees a repository path as an empty directory: its own mount namespace, a tmpfs over the path (root only). */
function canHidePaths(): boolean {
  try {
    execFileSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hiding = canHidePaths();

/**
 * Issue 21, "a repository or runtime that a node cannot serve is never
 * placed there": two node processes on one database. Node a has the claude
 * binary (the fake CLI) and sees both repositories; node b has no claude
 * binary and, in its own mount namespace, sees repository `other` as an
 * empty directory. Nobody has codex.
 */
describe.skipIf(!hiding)('placement by capability (real PostgreSQL, 2 node processes)', () => {
  let c: TestCluster;
  let other: TestRepo;
  let a: TestNode;
  let b: TestNode;
  beforeAll(async () => {
    other = makeTestRepo({ name: 'other' });
    const hide = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs mosaic-hidden "$0" && exec "$@"', other.path];
    c = await startTestCluster(['a', 'b'], { MOSAIC_CODEX_BIN: '/nonexistent/codex' }, {
      nodes: {
        a: { env: { MOSAIC_CLAUDE_BIN: FAKE_CLAUDE_BIN } },
        b: { env: { MOSAIC_CLAUDE_BIN: '/nonexistent/claude' }, wrapper: hide },
      },
    });
    [a, b] = c.nodes as [TestNode, TestNode];
    const added = await a.api('POST', '/repos', { name: 'other', path: other.path });
    expect(added.status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await c?.stop();
    other?.cleanup();
  }, 60_000);

  const spawn = (node: TestNode, body: Record<string, unknown>) =>
    node.api<PublicAgent & { error?: { code: string; details?: unknown } }>('POST', '/agents', { taskId: 'caps', prompt: 'capability test', ...body });

  it('publishes what each node serves and places only there; a pin to a node that cannot serve is 409 node_cannot_serve', async () => {
    const caps = await waitFor(async () => {
      const rows = await c.sql<{ name: string; capabilities: string }>('SELECT name, capabilities FROM cluster_nodes ORDER BY name');
      const parsed = rows.map((r) => ({ name: r.name, ...(JSON.parse(r.capabilities) as { runtimes: string[]; repos: string[]; reposMissing: string[] }) }));
      return parsed.every((p) => p.repos.length + p.reposMissing.length === 2) ? parsed : undefined;
    }, { timeoutMs: 20_000, what: 'both nodes to have looked at both repositories' });
    expect(caps).toEqual([
      { name: 'a', runtimes: ['claude', 'command'], repos: ['app', 'other'], reposMissing: [] },
      { name: 'b', runtimes: ['command'], repos: ['app'], reposMissing: ['other'] },
    ]);

    // Spawned through b, which can run none of them: claude agents and agents of `other` all run on a.
    const claude = [];
    for (let i = 0; i < 3; i += 1) claude.push(await spawn(b, { repo: 'app', runtime: { kind: 'claude' } }));
    const onOther = [];
    for (let i = 0; i < 3; i += 1) onOther.push(await spawn(b, { repo: 'other', runtime: { kind: 'command', argv: ['sh', '-c', 'echo ok'] } }));
    // Meanwhile command agents of `app` may run anywhere: b takes some of them.
    const anywhere = [];
    for (let i = 0; i < 6; i += 1) anywhere.push(await spawn(a, { repo: 'app', runtime: { kind: 'command', argv: ['sh', '-c', 'sleep 0.5'] } }));
    for (const res of [...claude, ...onOther, ...anywhere]) expect(res.status).toBe(202);
    for (const res of [...claude, ...onOther]) {
      const ended = await c.waitState(res.body.id, ['completed', 'failed', 'killed'], 90_000);
      expect([ended.state, ended.node, ended.error]).toEqual(['completed', 'a', null]);
    }
    const nodesOfAnywhere = new Set<string>();
    for (const res of anywhere) nodesOfAnywhere.add(String((await c.waitState(res.body.id, ['completed'], 90_000)).node));
    expect(nodesOfAnywhere.has('b')).toBe(true);

    const pinnedClaude = await spawn(a, { repo: 'app', runtime: { kind: 'claude' }, node: 'b' });
    expect([pinnedClaude.status, pinnedClaude.body.error?.code]).toEqual([409, 'node_cannot_serve']);
    const pinnedOther = await spawn(a, { repo: 'other', runtime: { kind: 'command', argv: ['true'] }, node: 'b' });
    expect([pinnedOther.status, pinnedOther.body.error?.code]).toEqual([409, 'node_cannot_serve']);
    // A pin to a node that can serve it is taken.
    const pinnedA = await spawn(b, { repo: 'other', runtime: { kind: 'command', argv: ['true'] }, node: 'a' });
    expect((await c.waitState(pinnedA.body.id, ['completed'])).node).toBe('a');
  }, 180_000);

  it('a spawn no up node can serve stays queued with waitingFor no_capable_node', async () => {
    const codex = await spawn(b, { repo: 'app', runtime: { kind: 'codex' } });
    expect(codex.status).toBe(202);
    const held = await waitFor(async () => {
      const agent = await c.agent(codex.body.id);
      return agent.waitingFor !== null ? agent : undefined;
    }, { timeoutMs: 15_000, what: 'the codex agent to be marked' });
    expect(held.state).toBe('queued');
    expect(held.waitingFor).toEqual({ reason: 'no_capable_node', runtime: 'codex', repo: 'app' });
    // Work that can be served is not held behind it.
    const after = await spawn(b, { repo: 'app', runtime: { kind: 'command', argv: ['true'] } });
    expect((await c.waitState(after.body.id, ['completed'])).waitingFor).toBeNull();
    expect((await c.agent(codex.body.id)).state).toBe('queued');
    expect((await a.api('POST', `/agents/${codex.body.id}/kill`)).status).toBeLessThan(300);
    expect((await c.waitState(codex.body.id, ['killed'])).state).toBe('killed');
  }, 60_000);

  it('fleet governance holds on the cluster path: a spent budget scope keeps its spawns queued on every node, pinned ones too', async () => {
    // The claude agents above spent on repo app (the fake CLI reports a cost): a budget below that is spent.
    const put = await b.api<{ leftUsd: number; spentUsd: number }>('PUT', '/budgets/repo:app', { usd: 0.000001, per: 'day' });
    expect(put.status).toBe(200);
    expect(put.body.spentUsd).toBeGreaterThan(0);
    // The node that took the change sees it at once; the others within their budget cache (2 s, budgets.ts).
    await new Promise((r) => setTimeout(r, 2500));
    const held = await spawn(b, { repo: 'app', runtime: { kind: 'command', argv: ['true'] } });
    const heldPinned = await spawn(a, { repo: 'app', runtime: { kind: 'command', argv: ['true'] }, node: 'b' });
    const free = await spawn(a, { repo: 'other', runtime: { kind: 'command', argv: ['true'] } });
    expect((await c.waitState(free.body.id, ['completed'])).node).toBe('a');
    for (const res of [held, heldPinned]) {
      const agent = await waitFor(async () => {
        const current = await c.agent(res.body.id);
        if (current.state !== 'queued') throw new Error(`agent ${current.id} left the queue: ${current.state} on ${current.node}`);
        return current.waitingFor !== null ? current : undefined;
      }, { timeoutMs: 15_000, what: 'the agent to be marked held by the budget' });
      expect(agent.state).toBe('queued');
      expect(agent.waitingFor).toMatchObject({ reason: 'budget', scope: 'repo:app' });
    }
    // Still queued well after every node had passes to take it.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await c.agent(held.body.id)).state).toBe('queued');
    expect((await c.agent(heldPinned.body.id)).state).toBe('queued');
    // Raised on one node: every node starts them.
    expect((await a.api('PUT', '/budgets/repo:app', { usd: 100, per: 'day' })).status).toBe(200);
    expect((await c.waitState(held.body.id, ['completed'], 30_000)).waitingFor).toBeNull();
    expect((await c.waitState(heldPinned.body.id, ['completed'], 30_000)).node).toBe('b');
  }, 60_000);

  it('a repository\'s retryOnNodeLost is its spawns\' default: their own value wins, a pinned spawn never retries', async () => {
    const set = await a.api<{ retryOnNodeLost: boolean }>('PATCH', '/repos/other', { retryOnNodeLost: true });
    expect([set.status, set.body.retryOnNodeLost]).toEqual([200, true]);
    expect((await b.api<{ retryOnNodeLost: boolean }>('GET', '/repos/other')).body.retryOnNodeLost).toBe(true);
    const argv = { kind: 'command', argv: ['true'] };
    const byDefault = await spawn(b, { repo: 'other', runtime: argv });
    const optedOut = await spawn(b, { repo: 'other', runtime: argv, retryOnNodeLost: false });
    const pinned = await spawn(b, { repo: 'other', runtime: argv, node: 'a' });
    const elsewhere = await spawn(b, { repo: 'app', runtime: argv });
    expect([byDefault, optedOut, pinned, elsewhere].map((r) => [r.status, r.body.retryOnNodeLost])).toEqual([[202, true], [202, false], [202, false], [202, false]]);
    expect((await a.api<{ retryOnNodeLost: boolean }>('PATCH', '/repos/other', { retryOnNodeLost: false })).body.retryOnNodeLost).toBe(false);
    for (const r of [byDefault, optedOut, pinned, elsewhere]) await c.waitState(r.body.id, ['completed']);
  }, 60_000);
});
