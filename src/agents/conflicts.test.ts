import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent, RepoConflicts } from './index.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';
import { readSse } from '../test-support/sse.js';
import { waitFor } from '../test-support/wait.js';

const SHARED = `${Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;

/** Issue 8, must-hold 5: the conflict radar, with real agents (one of them still running). */
describe('conflict radar', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ repo: { files: { 'shared.txt': SHARED } } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  const done = async (script: string, taskId: string): Promise<PublicAgent> => {
    const agent = await waitForState(t, (await spawnCommand(t, script, { taskId })).id);
    expect(agent.state).toBe('completed');
    return agent;
  };

  it('one conflicting pair, nothing for disjoint work, a running agent\'s uncommitted edit counted; SSE on change', async () => {
    const a = await done("sed -i '2s/.*/two by A/' shared.txt && git commit -qam A", 'edit-a');
    const b = await done("sed -i '2s/.*/two by B/' shared.txt && git commit -qam B", 'edit-b');
    const c = await done('echo c > c-only.txt && git add . && git commit -qm C', 'edit-c');
    // D never commits: its edit of line 11 exists only in its worktree while it runs.
    const d = await spawnCommand(t, "sed -i '11s/.*/eleven by D/' shared.txt && sleep 60", { taskId: 'edit-d' });
    await waitForState(t, d.id, ['running']);

    const report = await waitFor(async () => {
      const res = await t.api<RepoConflicts>('GET', '/repos/app/conflicts');
      return res.status === 200 && res.body.pairs.length === 3 ? res.body : null;
    }, { timeoutMs: 20_000, what: 'three pairs (A-B, A-D, B-D)' });
    const byPair = new Map(report.pairs.map((p) => [[...p.agents].sort().join('+'), p]));
    const pair = (x: string, y: string) => byPair.get([x, y].sort().join('+'));
    expect(report.pairs.filter((p) => p.conflicts)).toHaveLength(1);
    expect(pair(a.id, b.id)).toMatchObject({ paths: ['shared.txt'], conflicts: true });
    expect(pair(a.id, d.id)).toMatchObject({ paths: ['shared.txt'], conflicts: false });
    expect(pair(b.id, d.id)).toMatchObject({ paths: ['shared.txt'], conflicts: false });
    expect(report.pairs.some((p) => p.agents.includes(c.id))).toBe(false);
    expect(report.base).toEqual([]);

    // Landing A changes the set: A leaves the radar and B now conflicts with main. SSE says so,
    // without an id, and the agent events around it keep contiguous seqs.
    const last = await t.store.events.lastSeq();
    const sse = readSse(t, '/events', (events) => events.some((e) => e.event === 'repo.conflicts'
      && (JSON.parse(e.data) as RepoConflicts).base.length > 0), { lastEventId: last, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 300)); // the stream is open and listening
    expect((await t.api('POST', `/agents/${a.id}/land`, {})).status).toBe(200);
    const { events } = await sse;
    const at = events.findIndex((e) => e.event === 'repo.conflicts' && (JSON.parse(e.data) as RepoConflicts).base.length > 0);
    const notice = events[at];
    // No id of its own: a client's last event id stays the previous agent event's (EventSource keeps it).
    expect(notice?.id).toBe(events.slice(0, at).reverse().find((e) => e.event !== 'repo.conflicts')?.id);
    const data = JSON.parse(notice?.data ?? '{}') as RepoConflicts;
    expect(data.repo).toBe('app');
    expect(data.base).toEqual([{ agent: b.id, paths: ['shared.txt'] }]);
    expect(data.pairs.map((p) => [...p.agents].sort())).toEqual([[b.id, d.id].sort()]);
    const seqs = events.filter((e) => e.event !== 'repo.conflicts').map((e) => Number(e.id));
    expect(seqs[0]).toBe(last + 1);
    expect(seqs).toEqual(seqs.map((_, i) => last + 1 + i));

    expect((await t.api('GET', '/repos/nope/conflicts')).status).toBe(404);
    await t.api('POST', `/agents/${d.id}/kill`);
  });
});
