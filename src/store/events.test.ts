import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStore } from './index.js';
import { storeBackends } from '../test-support/store-backends.js';
import { makeAgent } from '../test-support/store-records.js';

describe.each(storeBackends())('events table on $name', (backend) => {
  let store: SqlStore;

  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(async () => {
    await backend.fresh();
    store = await backend.open({ now: () => 777 });
  });
  afterEach(async () => {
    await store.close();
  });

  it('starts empty', async () => {
    expect(await store.events.lastSeq()).toBe(0);
    expect(await store.events.after(0)).toEqual([]);
  });

  it('appends with strictly increasing seq and round-trips the data', async () => {
    const agent = makeAgent({ result: { summary: 'progress', usage: { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, reasoningTokens: 0 } } });
    const seqs: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const e = await store.events.append(i % 2 ? 'agent.progress' : 'agent.remote', agent.id, agent);
      expect(e).toEqual({ seq: e.seq, type: i % 2 ? 'agent.progress' : 'agent.remote', agentId: agent.id, data: agent, createdAt: 777 });
      seqs.push(e.seq);
    }
    for (let i = 1; i < seqs.length; i += 1) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? Infinity);
    expect(await store.events.lastSeq()).toBe(seqs.at(-1));
  });

  it('resumes with after() page by page without gaps or duplicates', async () => {
    const agent = makeAgent();
    await store.agents.insert(agent);
    for (let i = 0; i < 9; i += 1) await store.events.append('agent.progress', agent.id, agent);
    await store.agents.transition(agent.id, ['queued'], 'running');
    const all = await store.events.after(0);
    expect(all).toHaveLength(11);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));

    const seen: number[] = [];
    let cursor = 0;
    for (let page = await store.events.after(cursor, 3); page.length > 0; page = await store.events.after(cursor, 3)) {
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page.map((e) => e.seq));
      cursor = page.at(-1)?.seq ?? cursor;
    }
    expect(seen).toEqual(all.map((e) => e.seq));
    expect(await store.events.after(all[4]?.seq ?? 0)).toEqual(all.slice(5));
    expect(await store.events.after(cursor)).toEqual([]);
    expect(await store.events.after(0, 0)).toEqual([]);
  });

  it('never reuses a seq after old events are deleted', async () => {
    const agent = makeAgent();
    for (let i = 0; i < 3; i += 1) await store.events.append('agent.progress', agent.id, agent);
    await store.sql.db.deleteFrom('events').execute();
    expect(await store.events.lastSeq()).toBe(3);
    expect((await store.events.append('agent.progress', agent.id, agent)).seq).toBe(4);
  });

  it('defaults to pages of 1000', async () => {
    const agent = makeAgent();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 1005; i += 1) await tx.events.append('agent.progress', agent.id, agent);
    });
    expect(await store.events.after(0)).toHaveLength(1000);
    expect(await store.events.after(1000)).toHaveLength(5);
  });
});
