import pg from 'pg';
import type { PublicAgent } from '../agents/index.js';
import { makeTestRemote, type TestRemote } from './remote-repo.js';
import { makeTestRepo, type TestRepo } from './test-repo.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { startServerChild, type ServerChild } from './server-child.js';
import { waitFor } from './wait.js';

export const TEST_CLUSTER_SECRET = 'test-cluster-secret-0123456789-abcdefghij';

export interface TestNode extends ServerChild {
  name: string;
}

/**
 * A cluster for tests: one new database, nodes as separate `mosaic up`
 * processes (own homes and ports), a repository they all reach at one path
 * — or, with `byUrl`, shared by a file:// bare remote every node clones.
 */
export interface TestCluster {
  db: TestDatabase;
  repo: TestRepo;
  /** With `byUrl`: the shared remote (its working repository is `repo`). */
  remote?: TestRemote;
  nodes: TestNode[];
  /** Starts another node (or the same name again on a new home); `wrapper` as startServerChild's. */
  startNode(name: string, env?: Record<string, string>, wrapper?: string[]): Promise<TestNode>;
  /** A direct connection to the cluster's database (closed by stop). */
  sql<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  spawn(node: TestNode, script: string, extra?: Record<string, unknown>): Promise<PublicAgent>;
  agent(id: string): Promise<PublicAgent>;
  waitState(id: string, states: string[], timeoutMs?: number): Promise<PublicAgent>;
  stop(): Promise<void>;
}

/** What one node of a test cluster gets besides the cluster's settings. */
export interface TestNodeOptions {
  env?: Record<string, string>;
  wrapper?: string[];
}

export async function startTestCluster(
  names: string[], env: Record<string, string> = {}, opts: { byUrl?: boolean; nodes?: Record<string, TestNodeOptions> } = {},
): Promise<TestCluster> {
  const perNode = opts.nodes ?? {};
  const db = await createTestDatabase();
  const remote = opts.byUrl ? makeTestRemote() : undefined;
  const repo = remote?.repo ?? makeTestRepo();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const nodes: TestNode[] = [];
  let counter = 0;
  const startNode = async (name: string, more: Record<string, string> = {}, wrapper?: string[]): Promise<TestNode> => {
    const child = await startServerChild({
      ...(wrapper ? { wrapper } : {}),
      env: {
        MOSAIC_DATABASE_URL: db.url, MOSAIC_CLUSTER_SECRET: TEST_CLUSTER_SECRET, MOSAIC_NODE_NAME: name,
        MOSAIC_SANDBOX: 'off', MOSAIC_DATABASE_POOL: '4', MOSAIC_MAX_AGENTS: '2', MOSAIC_NODE_LEASE_S: '10', ...env, ...more,
      },
    });
    const node = { ...child, name };
    nodes.push(node);
    // Up in the registry (a node starved past its lease while starting is declared lost and rejoins by itself).
    await waitFor(async () => {
      const res = await node.api<{ nodes: { name: string; state: string }[] }>('GET', '/cluster');
      return res.body.nodes.find((n) => n.name === name)?.state === 'up';
    }, { timeoutMs: 30_000, intervalMs: 100, what: `node ${name} to be up` });
    return node;
  };
  const cluster: TestCluster = {
    db, repo, nodes, startNode, ...(remote ? { remote } : {}),
    async sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      return (await client.query<T>(text, values)).rows;
    },
    async spawn(node, script, extra = {}) {
      counter += 1;
      const res = await node.api<PublicAgent>('POST', '/agents', {
        taskId: `t${counter}`, repo: 'app', prompt: 'cluster test', runtime: { kind: 'command', argv: ['sh', '-c', script] }, ...extra,
      });
      if (res.status !== 202) throw new Error(`spawn answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async agent(id) {
      const live = nodes.find((n) => n.process.exitCode === null && n.process.signalCode === null);
      if (!live) throw new Error('no live node');
      return (await live.api<PublicAgent>('GET', `/agents/${id}`)).body;
    },
    async waitState(id, states, timeoutMs = 60_000) {
      return waitFor(async () => {
        const agent = await cluster.agent(id);
        return states.includes(agent.state) ? agent : undefined;
      }, { timeoutMs, intervalMs: 100, what: `agent ${id} to be ${states.join('|')}` });
    },
    async stop() {
      for (const node of [...nodes].reverse()) {
        if (node.process.signalCode === 'SIGSTOP') node.process.kill('SIGCONT');
        await node.stop().catch(() => undefined);
      }
      await client.end().catch(() => undefined);
      await db.drop().catch(() => undefined);
      repo.cleanup();
    },
  };
  try {
    await Promise.all(names.map((name) => startNode(name, perNode[name]?.env, perNode[name]?.wrapper)));
    nodes.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
    const added = await nodes[0]!.api('POST', '/repos', remote ? { name: 'app', url: remote.url } : { name: 'app', path: repo.path });
    if (added.status !== 201 && added.status !== 200) throw new Error(`repos add answered ${added.status}: ${JSON.stringify(added.body)}`);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
