import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempDir } from '../test-support/git-fixtures.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';
import { readSse } from '../test-support/sse.js';
import { eventually, finished, startCli } from '../test-support/cli.js';
import type { Kysely } from 'kysely';
import type { FederationTables } from '../federation/store/index.js';
import { sqliteHandle } from '../store/index.js';
import { ensureIncrementalVacuum } from '../store/sqlite/space.js';
import { pruneStore } from './retention.js';

const DAY_MS = 24 * 3600_000;

/**
 * Issue 7, must-hold 2 (retention): events older than the retention or past
 * the newest `retentionMaxRows` are pruned, newer ones stay, events still to
 * be delivered to a peer are never pruned, agents' records are untouched,
 * `/events` resumes over the gap, and the freed space goes back to the disk.
 */
describe('store retention', () => {
  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo();
  });
  afterAll(async () => {
    await env.stop();
  });

  it('prunes events by age and by count, keeps what a peer still needs, and /events still resumes', { timeout: 60_000 }, async () => {
    const { t } = env;
    const agents = [];
    for (const taskId of ['old', 'mid', 'new']) {
      const agent = await spawnCommand(t, 'true', { taskId });
      agents.push(await waitForState(t, agent.id));
    }
    const [old, mid] = agents;
    const seqsOf = async (id?: string) => (await t.store.events.after(0, 10_000)).filter((e) => !id || e.agentId === id).map((e) => e.seq);
    const all = await seqsOf();
    const oldSeqs = await seqsOf(old!.id);
    expect(oldSeqs.length).toBeGreaterThanOrEqual(4);

    // The first agent's events are 8 days old; retention is 7 days.
    await t.store.sql.db.updateTable('events').set({ created_at: Date.now() - 8 * DAY_MS }).where('agent_id', '=', old!.id).execute();
    const byAge = await pruneStore(t.store, t.federation, t.config);
    expect(byAge.events).toBe(oldSeqs.length);
    expect(await seqsOf()).toEqual(all.filter((seq) => !oldSeqs.includes(seq)));
    // The agent itself is untouched.
    expect((await t.api<{ state: string }>('GET', `/agents/${old!.id}`)).body.state).toBe('completed');

    // /events from the start, and resumed from a pruned seq, give what is left, in order.
    const left = await seqsOf();
    // (Conflict-radar notices carry no id and are left out.)
    const ids = (events: { id?: string }[]) => events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
    const replay = await readSse(t, '/events', (events) => ids(events).length >= left.length);
    expect(ids(replay.events)).toEqual(left);
    const resumed = await readSse(t, '/events', (events) => ids(events).length >= left.length, { lastEventId: oldSeqs[1] });
    expect(ids(resumed.events)).toEqual(left);
    // Both say first that what they asked for is partly gone; a reader whose cursor is still kept hears nothing of it.
    const gaps = (events: { event: string; data: string }[]) => events.filter((e) => e.event === 'events.gap').map((e) => JSON.parse(e.data) as unknown);
    const gap = (after: number) => ({ after, next: left[0], message: `events ${after + 1} to ${left[0]! - 1} are no longer kept (retention)` });
    expect(replay.events[0]?.event).toBe('events.gap');
    expect(gaps(replay.events)).toEqual([gap(0)]);
    expect(gaps(resumed.events)).toEqual([gap(oldSeqs[1]!)]);
    const kept = await readSse(t, '/events', (events) => ids(events).length >= left.length - 1, { lastEventId: left[0] });
    expect(ids(kept.events)).toEqual(left.slice(1));
    expect(gaps(kept.events)).toEqual([]);
    // `mosaic events --after 0` says so on stderr and still prints what is kept.
    const cli = startCli(['events', '--after', '0', '--json'], { MOSAIC_HOME: t.home, MOSAIC_URL: t.url });
    const cliDone = finished(cli);
    let cliOut = '';
    cli.stdout?.on('data', (chunk: Buffer) => (cliOut += chunk.toString()));
    await eventually(() => cliOut, (text) => text.split('\n').filter(Boolean).length >= left.length);
    cli.kill('SIGINT');
    const cliResult = await cliDone;
    expect(cliResult.code, cliResult.stderr).toBe(130); // interrupted
    expect(cliResult.stderr).toContain(`note: events 1 to ${left[0]! - 1} are no longer kept (retention); \`mosaic agents list\` shows the current state`);
    expect(cliOut.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { seq: number }).seq)).toEqual(left);

    // By count: the newest 3 stay — and an event still queued for a peer, with everything after it.
    const midSeqs = await seqsOf(mid!.id);
    const queued = midSeqs[1]!;
    const outbox = (t.store.sql.db as unknown as Kysely<FederationTables>);
    await outbox.insertInto('federation_outbox').values({ peer: 'peer-not-reached', seq: queued, agent_id: mid!.id, created_at: Date.now() }).execute();
    try {
      await pruneStore(t.store, t.federation, { ...t.config, retentionMaxRows: 3 });
      expect(await seqsOf()).toEqual(left.filter((seq) => seq >= queued));
    } finally {
      await outbox.deleteFrom('federation_outbox').where('peer', '=', 'peer-not-reached').execute();
    }
    await pruneStore(t.store, t.federation, { ...t.config, retentionMaxRows: 3 });
    expect(await seqsOf()).toEqual(left.slice(-3));
    // Seqs are never reused: the next event follows the last one ever written.
    const next = await spawnCommand(t, 'true', { taskId: 'after' });
    await waitForState(t, next.id);
    expect((await seqsOf(next.id))[0]).toBe(all.at(-1)! + 1);
  });

  it('gives the pruned rows\' space back to the disk', async () => {
    const { t } = env;
    const file = join(t.home, 'mosaic.db');
    const size = () => {
      sqliteHandle(t.store).pragma('wal_checkpoint(TRUNCATE)');
      return statSync(file).size;
    };
    expect(sqliteHandle(t.store).pragma('auto_vacuum', { simple: true })).toBe(2); // incremental, from the first table on
    const [agent] = await t.store.agents.list({});
    const big = { ...agent!, prompt: 'x'.repeat(1800) }; // cut to 2 KiB in events anyway
    for (let i = 0; i < 3000; i += 1) await t.store.events.append('agent.progress', big.id, big);
    const grown = size();
    await pruneStore(t.store, t.federation, { ...t.config, retentionMaxRows: 100 });
    const after = size();
    expect(grown).toBeGreaterThan(5_000_000);
    expect(after).toBeLessThan(grown / 4);
  });

  it('converts an older store (made without auto_vacuum) once', () => {
    const dir = makeTempDir();
    try {
      const db = new Database(join(dir.path, 'old.db'));
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (x TEXT)');
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(0);
      expect(ensureIncrementalVacuum(db)).toBe(true);
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
      expect(ensureIncrementalVacuum(db)).toBe(false);
      db.close();
    } finally {
      dir.cleanup();
    }
  });
});
