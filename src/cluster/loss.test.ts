import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { startTestCluster, type TestCluster, type TestNode } from '../test-support/cluster.js';
import { waitFor } from '../test-support/wait.js';
import type { NodeView } from './nodes.js';

const LEASE_S = 4;

const alive = (pid: number | null): boolean => {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function nodeView(via: TestNode, name: string): Promise<NodeView | undefined> {
  return (await via.api<{ nodes: NodeView[] }>('GET', '/cluster')).body.nodes.find((n) => n.name === name);
}

async function statesOf(c: TestCluster, id: string): Promise<string[]> {
  const rows = await c.sql<{ data: string }>("SELECT data FROM events WHERE agent_id = $1 AND type = 'agent.state' ORDER BY seq", [id]);
  return rows.map((r) => (JSON.parse(r.data) as PublicAgent).state);
}

/**
 * Issue 21, tests 2 and 3: node loss with a short lease (MOSAIC_NODE_LEASE_S=4).
 * A SIGKILLed node's agents end failed/node_lost within lease + 5 s, and
 * with retryOnNodeLost run again (retryOf) on another node and complete.
 * A node paused (SIGSTOP) past its lease is declared lost by the others;
 * resumed (SIGCONT) it kills its agents, records nothing for them, rejoins.
 * The repository is shared by URL (a file:// bare remote every node clones,
 * checkpoints every second): from node a, an agent that ran on node c is
 * diffed and landed (from the remote); a SIGKILLed node's agents leave their
 * last checkpoint on the remote.
 */
describe('node loss (real PostgreSQL, node processes, lease 4 s)', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startTestCluster(['a', 'b', 'c'], { MOSAIC_NODE_LEASE_S: String(LEASE_S), MOSAIC_CHECKPOINT_S: '1' }, { byUrl: true });
  }, 120_000);
  afterAll(async () => { await c?.stop(); }, 60_000);

  it('from node a: diff and land an agent that ran on node c (its branch and the landing go through the remote)', async () => {
    const [a, b] = c.nodes as [TestNode, TestNode];
    const agent = await c.spawn(a, 'echo from-c > from-c.txt && git add . && git -c user.name=t -c user.email=t@t commit -qm from-c', { node: 'c' });
    const done = await c.waitState(agent.id, ['completed', 'failed', 'killed']);
    expect([done.state, done.node]).toEqual(['completed', 'c']);
    const diff = await fetch(`${a.url}/api/v1/agents/${agent.id}/diff`, { headers: { authorization: `Bearer ${a.adminToken}` } });
    expect(await diff.text()).toContain('+from-c');
    const landed = await a.api<{ landed: { commit: string } }>('POST', `/agents/${agent.id}/land`, {});
    expect(landed.status).toBe(200);
    expect(c.remote!.branch('main')).toBe(landed.body.landed.commit);
    expect(c.remote!.show('main', 'from-c.txt')).toBe('from-c\n');
    expect((await a.api<PublicAgent>('GET', `/agents/${agent.id}`)).body.landed).toMatchObject({ commit: landed.body.landed.commit });
    expect(JSON.parse((await c.sql<{ landed: string }>('SELECT landed FROM agents WHERE id = $1', [agent.id]))[0]!.landed)).toMatchObject({ commit: landed.body.landed.commit });
    // Node b, which has no clone of the repository yet, shows the agent too (its checkout here is unknown).
    const onB = await b.api<PublicAgent>('GET', `/agents/${agent.id}`);
    expect([onB.status, onB.body.landed?.commit]).toEqual([200, landed.body.landed.commit]);
  }, 60_000);

  it('SIGKILL: the lost node\'s agents end node_lost within lease + 5 s, and run again elsewhere when asked', async () => {
    const [a, b, victim] = c.nodes as [TestNode, TestNode, TestNode];
    // Only c takes work while a and b drain: the two agents land on c unpinned (a pinned agent is never retried).
    await a.api('POST', '/cluster/nodes/a/drain');
    await a.api('POST', '/cluster/nodes/b/drain');
    // They run until released (after the crash), however long their checkpoints take to show under load.
    const release = join(c.repo.dir, 'release');
    const script = `echo "$MOSAIC_AGENT_ID" > checkpointed.txt; while [ ! -e ${release} ]; do sleep 0.2; done; echo done`;
    const agents = await Promise.all([1, 2].map(() => c.spawn(a, script, { retryOnNodeLost: true })));
    for (const agent of agents) expect((await c.waitState(agent.id, ['running'])).node).toBe('c');
    // Their checkpoint (MOSAIC_CHECKPOINT_S=1) reaches the remote while they run.
    const checkpointed = (id: string, branch: string): boolean => {
      const tip = c.remote!.branch(branch);
      return tip !== null && c.remote!.show(tip, 'checkpointed.txt') === `${id}\n`;
    };
    const branches = await Promise.all(agents.map((agent) => c.agent(agent.id)));
    await waitFor(() => branches.every((x) => checkpointed(x.id, x.branch)), { timeoutMs: 15_000, intervalMs: 100, what: 'their checkpoints on the remote' });
    await a.api('POST', '/cluster/nodes/a/undrain');
    await a.api('POST', '/cluster/nodes/b/undrain');

    const killedAt = Date.now();
    await victim.crash();
    writeFileSync(release, '');
    const lost = await Promise.all(agents.map((agent) => c.waitState(agent.id, ['failed', 'completed', 'killed'], (LEASE_S + 15) * 1000)));
    const within = Date.now() - killedAt;
    for (const agent of lost) {
      expect(agent.state).toBe('failed');
      expect(agent.error?.code).toBe('node_lost');
    }
    expect(within).toBeLessThan((LEASE_S + 5) * 1000);
    expect((await nodeView(a, 'c'))?.state).toBe('lost');
    // The dead node's work up to its last checkpoint is on the remote.
    for (const x of branches) expect(checkpointed(x.id, x.branch)).toBe(true);
    // The retries: new agents with retryOf, on a or b, completed.
    const all = (await a.api<{ agents: PublicAgent[] }>('GET', '/agents')).body.agents;
    for (const agent of agents) {
      const retry = all.find((x) => x.retryOf?.agentId === agent.id);
      expect(retry).toBeDefined();
      const done = await c.waitState(retry!.id, ['completed', 'failed', 'killed']);
      expect(done.state, JSON.stringify(done.error)).toBe('completed');
      expect(['a', 'b']).toContain(done.node);
    }
    console.info(`node loss: agents of the SIGKILLed node ended node_lost ${within} ms after the kill (lease ${LEASE_S} s)`);
    // The dead node's supervisors still run their agents on this machine until their end (a real lost machine takes them along).
    await waitFor(() => lost.every((x) => !alive(x.pid)), { timeoutMs: 20_000, what: 'the orphaned agents to end' });
  }, 120_000);

  it('SIGSTOP past the lease, then SIGCONT: the node kills its agents, records nothing for them, and rejoins', async () => {
    const [a] = c.nodes as [TestNode];
    const paused = await c.startNode('d', { MOSAIC_NODE_LEASE_S: String(LEASE_S) });
    const agents = await Promise.all([1, 2].map(() => c.spawn(a, 'sleep 120', { node: 'd' })));
    const running = await Promise.all(agents.map((agent) => c.waitState(agent.id, ['running'])));
    const epochBefore = Number((await c.sql<{ epoch: string }>("SELECT epoch FROM cluster_nodes WHERE name = 'd'"))[0]?.epoch);

    paused.process.kill('SIGSTOP');
    for (const agent of agents) {
      const ended = await c.waitState(agent.id, ['failed', 'completed', 'killed'], (LEASE_S + 15) * 1000);
      expect(ended.error?.code).toBe('node_lost');
    }
    expect((await nodeView(a, 'd'))?.state).toBe('lost');
    expect(running.every((r) => alive(r.pid))).toBe(true); // a paused node's agents run on until it wakes
    paused.process.kill('SIGCONT');

    // It finds its lease gone: it kills its agents and rejoins with a new epoch.
    await waitFor(() => running.every((r) => !alive(r.pid)), { timeoutMs: 20_000, what: 'the paused node to kill its agents' });
    const back = await waitFor(async () => {
      const view = await nodeView(a, 'd');
      return view?.state === 'up' ? view : undefined;
    }, { timeoutMs: 20_000, what: 'd to rejoin' });
    expect(back.running).toBe(0);
    const epochAfter = Number((await c.sql<{ epoch: string }>("SELECT epoch FROM cluster_nodes WHERE name = 'd'"))[0]?.epoch);
    expect(epochAfter).toBeGreaterThan(epochBefore);
    // Nothing recorded by d for them after the loss: their last state is the node_lost another node wrote.
    await new Promise((r) => setTimeout(r, 1500));
    for (const agent of agents) {
      expect(await statesOf(c, agent.id)).toEqual(['queued', 'spawning', 'running', 'failed']);
      expect((await c.agent(agent.id)).error?.code).toBe('node_lost');
    }
    // And it takes work again.
    const after = await c.spawn(a, 'echo back', { node: 'd' });
    expect((await c.waitState(after.id, ['completed'])).node).toBe('d');
  }, 120_000);
});
