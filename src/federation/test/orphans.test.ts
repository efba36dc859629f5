import { afterEach, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { waitForState } from '../../test-support/agents.js';
import { runCli } from '../../test-support/cli.js';
import { spawnRemote, startPair, type Pair } from '../../test-support/federation.js';

type ApiError = { error: { code: string; message: string } };
type Disconnected = { state: string; agents: { killed: string[]; orphaned: string[]; failed: unknown[] } };

/**
 * Issue 22, defect 2: disconnecting a peer that still runs this instance's
 * agents. Without --kill-agents they are left running there and marked
 * orphaned here (stale, and a note), kill-all names them instead of failing
 * for ever, and discard --force forgets one here (the spoke keeps its own);
 * with --kill-agents they are killed first and end killed here too.
 */
describe('disconnecting a peer with running agents', () => {
  let pair: Pair | undefined;
  afterEach(async () => {
    await pair?.stop();
    pair = undefined;
  });
  const hubCli = (p: Pair, ...args: string[]) => runCli(args, { MOSAIC_HOME: p.hub.home, MOSAIC_URL: p.hub.url });

  it('leaves them orphaned: marked, named by kill-all, and forgotten here by discard --force only', async () => {
    const p = (pair = await startPair());
    const ids = [(await spawnRemote(p.hub, 'exec sleep 300', { taskId: 'a' })).body.id, (await spawnRemote(p.hub, 'exec sleep 300', { taskId: 'b' })).body.id];
    for (const id of ids) await waitForState(p.hub, id, ['running'], 60_000);
    try {
      const disconnect = await hubCli(p, 'peers', 'disconnect', 'spoke');
      expect(disconnect.code, disconnect.stderr).toBe(0);
      expect(disconnect.stdout).toContain('disconnected spoke: disconnected');
      expect(disconnect.stderr).toContain('warning: 2 agents left running on spoke, orphaned here');
      for (const id of ids) expect(disconnect.stderr).toContain(id);
      expect(disconnect.stderr).toContain('mosaic peers disconnect spoke --kill-agents');

      const [first, second] = ids as [string, string];
      expect((await p.hub.api<PublicAgent>('GET', `/agents/${first}`)).body).toMatchObject({ state: 'running', orphaned: true, stale: true });
      const list = await hubCli(p, 'agents', 'list', '--all');
      expect(list.stdout).toMatch(new RegExp(`${first}\\s+running \\(orphaned\\)`));
      expect(list.stderr).toContain('note: peer spoke is disconnected: its agents here are orphaned');

      const kill = await p.hub.api<ApiError>('POST', `/agents/${first}/kill`);
      expect(kill.status).toBe(409);
      expect(kill.body.error.code).toBe('agent_orphaned');
      expect(kill.body.error.message).toContain(`mosaic agents discard ${first} --force`);

      const killAll = await hubCli(p, 'agents', 'kill-all');
      expect(killAll.code, killAll.stdout + killAll.stderr).toBe(0);
      expect(killAll.stdout).toContain('not reachable: 2 orphaned agents on disconnected peers');
      expect(killAll.stdout).toContain(`${first} (on spoke)`);

      const discard = await p.hub.api<ApiError>('DELETE', `/agents/${second}`);
      expect(discard.status).toBe(409);
      expect(discard.body.error.code).toBe('agent_orphaned');
      expect((await p.hub.api('DELETE', `/agents/${second}?force=true`)).status).toBe(204);
      expect((await p.hub.api('GET', `/agents/${second}`)).status).toBe(404);
      // The spoke keeps its own record (and its agent runs on until its admin decides).
      expect((await p.spoke.api<PublicAgent>('GET', `/agents/${second}`)).body.state).toBe('running');
    } finally {
      for (const id of ids) await p.spoke.api('POST', `/agents/${id}/kill`);
      for (const id of ids) await waitForState(p.spoke, id, ['killed'], 60_000);
    }
  }, 180_000);

  it('--kill-agents kills them first: they end killed on both sides, none orphaned', async () => {
    const p = (pair = await startPair());
    const id = (await spawnRemote(p.hub, 'exec sleep 300', { taskId: 'k' })).body.id;
    await waitForState(p.hub, id, ['running'], 60_000);
    const result = await hubCli(p, 'peers', 'disconnect', 'spoke', '--kill-agents', '--json');
    expect(result.code, result.stderr).toBe(0);
    const ended = JSON.parse(result.stdout) as Disconnected;
    expect(ended.state).toBe('disconnected');
    expect(ended.agents).toEqual({ killed: [id], orphaned: [], failed: [] });
    expect((await p.hub.api<PublicAgent>('GET', `/agents/${id}`)).body).toMatchObject({ state: 'killed', stale: false });
    expect((await waitForState(p.spoke, id, ['killed'], 30_000)).state).toBe('killed');
  }, 180_000);
});
