import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../test-support/cluster.js';

/** Spawns in test 1, as the issue asks (18 took 24 s in a CI run on 2 cores; MOSAIC_TEST_CLUSTER_SPAWNS changes it). */
const SPAWNS = Number(process.env.MOSAIC_TEST_CLUSTER_SPAWNS ?? 30);

/**
 * Issue 21, test 1: three nodes (own homes and ports, one database),
 * capacity 2 each. Every spawn is a job on the pg-boss queue; a node takes
 * one only with a free slot. All complete; every node ran some; sampled
 * every 200 ms from the database, no node ever ran more than 2; no agent
 * ran twice (each agent appends its id to one shared file when it runs).
 * The repository is shared by URL (a file:// bare remote each node clones):
 * every agent's branch is on the remote.
 */
describe('placement through the job queue (real PostgreSQL, 3 node processes)', () => {
  let c: TestCluster;
  beforeAll(async () => { c = await startTestCluster(['n1', 'n2', 'n3'], {}, { byUrl: true }); }, 120_000);
  afterAll(async () => { await c?.stop(); }, 60_000);

  it(`${SPAWNS} spawns spread by capacity: all complete, every node ran some, none over 2, none twice, every branch on the remote`, async () => {
    const ran = join(c.repo.dir, 'ran.log');
    writeFileSync(ran, '');
    let maxSeen = 0;
    const samples: Record<string, number>[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const rows = await c.sql<{ node: string; n: string }>(
          "SELECT node, count(*) AS n FROM agents WHERE state IN ('spawning', 'running') AND node IS NOT NULL GROUP BY node");
        const sample = Object.fromEntries(rows.map((r) => [r.node, Number(r.n)]));
        samples.push(sample);
        maxSeen = Math.max(maxSeen, ...Object.values(sample), 0);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    // Spawned through every node's API in turn, with a few priorities.
    const agents = await Promise.all(Array.from({ length: SPAWNS }, (_, i) =>
      c.spawn(c.nodes[i % 3]!, `echo "$MOSAIC_AGENT_ID" >> ${ran}; sleep 1`, { priority: 1 + (i % 3) })));
    const ended = [];
    for (const agent of agents) ended.push(await c.waitState(agent.id, ['completed', 'failed', 'killed'], 240_000));
    sampling = false;
    await sampler;

    expect(ended.map((a) => a.state)).toEqual(agents.map(() => 'completed'));
    const byNode = new Map<string, number>();
    for (const a of ended) byNode.set(String(a.node), (byNode.get(String(a.node)) ?? 0) + 1);
    expect([...byNode.keys()].sort()).toEqual(['n1', 'n2', 'n3']);
    expect(samples.length).toBeGreaterThan(5);
    expect(maxSeen).toBeLessThanOrEqual(2);
    const lines = readFileSync(ran, 'utf8').trim().split('\n');
    expect(lines.sort()).toEqual(agents.map((a) => a.id).sort());
    // Each agent was taken once: one spawning transition in its events.
    const spawnings = await c.sql<{ agent_id: string; n: string }>(
      "SELECT agent_id, count(*) AS n FROM events WHERE type = 'agent.state' AND data::json->>'state' = 'spawning' GROUP BY agent_id");
    expect(spawnings.every((s) => Number(s.n) === 1)).toBe(true);
    expect(spawnings).toHaveLength(SPAWNS);
    // Each node pushed its agents' branches to the shared remote when they ended.
    expect(ended.filter((a) => c.remote!.branch(a.branch) === null).map((a) => a.id)).toEqual([]);
    console.info(`placement: ${SPAWNS} spawns, by node ${JSON.stringify(Object.fromEntries(byNode))}, max running on a node ${maxSeen}, ${samples.length} samples`);
  }, 300_000);
});
