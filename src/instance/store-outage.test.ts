import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { spawnRemote, startPair, type Pair } from '../test-support/federation.js';
import { postgresBin, startPrivateCluster, type PrivateCluster } from '../test-support/private-postgres.js';
import { waitFor } from '../test-support/wait.js';
import { startInstance } from './index.js';

const OUTAGE_MS = 10_000;
const WAIT_FOR_GO = 'while [ ! -f go ]; do sleep 0.05; done; echo done > done.txt';
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Issue 20, test 4: the database stopped for 10 s while agents run, on a
 * cluster of the test's own (initdb + pg_ctl, never the shared one). A spoke
 * runs on it; a hub (SQLite) spawns on the spoke. During the outage requests
 * answer 503 store_unavailable, the agents keep running and end; once the
 * database is back their ends are recorded, the queued agent starts, the
 * outbox delivers the remote agent's end to the hub, and no event is lost
 * or duplicated.
 */
describe.skipIf(postgresBin() === undefined)('the database stopped while agents run', () => {
  let cluster: PrivateCluster | undefined;
  let pair: Pair | undefined;
  afterAll(async () => {
    await pair?.stop();
    cluster?.destroy();
  });

  it('answers 503 meanwhile, and records every end once, in order, when it is back', async () => {
    cluster = await startPrivateCluster();
    pair = await startPair({ spokeConfig: { databaseUrl: cluster.url, maxAgents: 3 } });
    const { hub, spoke } = pair;
    const local = [
      await spawnCommand(spoke, WAIT_FOR_GO, { repo: 'web', taskId: 'a' }),
      await spawnCommand(spoke, WAIT_FOR_GO, { repo: 'web', taskId: 'b' }),
    ];
    const remote = await spawnRemote(hub, WAIT_FOR_GO, { taskId: 'r' });
    expect(remote.status, JSON.stringify(remote.body)).toBe(202);
    const running = await Promise.all([...local.map((a) => a.id), remote.body.id].map((id) => waitForState(spoke, id, ['running'], 30_000)));
    // The fourth waits for a slot: the scheduler must start it after the outage.
    const queued = await spawnCommand(spoke, 'echo queued > q.txt', { repo: 'web', taskId: 'q' });
    expect(queued.state).toBe('queued');
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${remote.body.id}`)).body.state === 'running',
      { timeoutMs: 30_000, what: 'the hub to see its remote agent running' });

    cluster.stop();
    const outageStart = Date.now();
    const list = await spoke.api<{ error: { code: string } }>('GET', '/agents');
    expect(list.status).toBe(503);
    expect(list.body.error.code).toBe('store_unavailable');
    const spawn = await spawnCommand(spoke, 'true', { repo: 'web', taskId: 'during' }).catch((err: Error) => err);
    expect(String(spawn)).toMatch(/503|store_unavailable/);
    expect((await spoke.api('GET', '/health')).status).toBe(200);
    // The agents run on, and end, while their server cannot write.
    for (const agent of running) expect(alive(agent.pid!), `agent ${agent.id}`).toBe(true);
    for (const agent of running) writeFileSync(join(agent.worktreePath, 'go'), '');
    await waitFor(async () => running.every((a) => existsSync(join(a.worktreePath, 'done.txt'))), { timeoutMs: 8000, what: 'the agents to finish their work' });
    const late = await spoke.api<{ error: { code: string } }>('GET', `/agents/${running[0]!.id}`);
    expect(late.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    cluster.start();

    for (const agent of [...running, queued]) {
      expect((await waitForState(spoke, agent.id, ['completed', 'failed', 'killed'], 60_000)).state, agent.id).toBe('completed');
    }
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${remote.body.id}`)).body.state === 'completed',
      { timeoutMs: 60_000, what: 'the outbox to deliver the remote agent\'s end to the hub' });

    // Every agent's life once, in order; seqs without a hole or a repeat; the refused spawn left nothing.
    const events = await spoke.store.events.after(0, 10_000);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const agent of [...running, queued]) {
      const states = events.filter((e) => e.agentId === agent.id && e.type === 'agent.state').map((e) => e.data.state);
      expect(states, agent.id).toEqual(['queued', 'spawning', 'running', 'completed']);
    }
    expect((await spoke.store.agents.list()).map((a) => a.taskId).sort()).toEqual(['a', 'b', 'q', 'r']);
    const hubStates = (await hub.store.events.after(0, 10_000)).filter((e) => e.agentId === remote.body.id && e.type === 'agent.state').map((e) => e.data.state);
    expect(hubStates).toEqual(['queued', 'spawning', 'running', 'completed']);
    expect(await spoke.federation.store.outbox.pending(hub.identity.instanceId)).toEqual([]);
    // And the spoke answers again, still the one standalone instance on its database (its lock taken again).
    expect((await spoke.api('GET', '/agents')).status).toBe(200);
    const home = mkdtempSync(join(tmpdir(), 'mosaic-home-'));
    try {
      await expect(startInstance({ env: {}, config: { home, port: 0, host: '127.0.0.1', logLevel: 'silent', databaseUrl: cluster.url } }))
        .rejects.toMatchObject({ status: 409, code: 'database_in_use' });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 240_000);
});
