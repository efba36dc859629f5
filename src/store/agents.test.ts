import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../core/agent-model.js';
import type { SqlStore } from './index.js';
import { storeBackends } from '../test-support/store-backends.js';
import { makeAgent } from '../test-support/store-records.js';

describe.each(storeBackends())('agents table on $name', (backend) => {
  let store: SqlStore;
  let clock = 5_000_000;

  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(async () => {
    await backend.fresh();
    store = await backend.open({ now: () => ++clock });
  });
  afterEach(async () => {
    await store.close();
  });

  it('inserts an agent and its first agent.state event together', async () => {
    const agent = makeAgent();
    const { agent: stored, created, event } = await store.agents.insert(agent);
    expect(created).toBe(true);
    expect(stored).toEqual(agent);
    expect(event).toMatchObject({ type: 'agent.state', agentId: agent.id, data: agent });
    expect(await store.agents.get(agent.id)).toEqual(agent);
    expect(await store.events.after(0)).toEqual([event]);
  });

  it('round-trips every field exactly: JSON, booleans and nulls', async () => {
    const agent = makeAgent({
      runtime: { kind: 'claude', model: 'opus', maxTurns: 7, permissionMode: 'acceptEdits' },
      env: { FOO: 'bar', EMPTY: '' },
      timeoutS: 600,
      idempotencyKey: 'k-1',
      pid: 4242,
      pgid: 4243,
      port: 41000,
      exitCode: 0,
      error: { code: 'exit_nonzero', message: 'exit 3 — “quoted” ünïcode' },
      result: { commitsAhead: 2, filesChanged: 3, snapshotCommit: null, sessionId: 's', turns: 4, costUsd: 0.0123, usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 2, reasoningTokens: 1 }, summary: 'ok' },
      killRequested: true,
      startedAt: 1, endedAt: 2,
    });
    await store.agents.insert(agent);
    expect(await store.agents.get(agent.id)).toEqual(agent);
    const bare = makeAgent();
    await store.agents.insert(bare);
    const back = await store.agents.get(bare.id);
    expect(back).toEqual(bare);
    expect(back?.killRequested).toBe(false);
    expect(back?.error).toBeNull();
    expect(back?.result).toBeNull();
    const raw = await store.sql.db.selectFrom('agents').select(['kill_requested', 'error', 'result']).where('id', '=', agent.id).executeTakeFirst();
    expect(raw).toMatchObject({ kill_requested: 1 });
    expect(await store.sql.db.selectFrom('agents').select(['error', 'result']).where('id', '=', bare.id).executeTakeFirst()).toEqual({ error: null, result: null });
  });

  it('keeps env out of the event log', async () => {
    const { event } = await store.agents.insert(makeAgent({ env: { SECRET: 's3cr3t' } }));
    expect(event?.data.env).toEqual({});
    const rows = await store.sql.db.selectFrom('events').select('data').execute();
    expect(rows.some((r) => r.data.includes('s3cr3t'))).toBe(false);
  });

  it('returns the first agent for a repeated idempotency key of the same origin', async () => {
    const first = await store.agents.insert(makeAgent({ idempotencyKey: 'retry-1' }));
    const again = await store.agents.insert(makeAgent({ idempotencyKey: 'retry-1', prompt: 'other' }));
    expect(again).toEqual({ agent: first.agent, created: false, event: null });
    expect(await store.agents.list()).toHaveLength(1);
    expect(await store.events.lastSeq()).toBe(1);
    expect(await store.agents.findByIdempotencyKey('local', 'retry-1')).toEqual(first.agent);
    expect(await store.agents.findByIdempotencyKey('peerinstance', 'retry-1')).toBeUndefined();
    // Another origin may use the same key; null keys never collide.
    const peer = await store.agents.insert(makeAgent({ idempotencyKey: 'retry-1', origin: 'peerinstance' }));
    expect(peer.created).toBe(true);
    await store.agents.insert(makeAgent());
    await store.agents.insert(makeAgent());
    expect(await store.agents.list()).toHaveLength(4);
    expect((await store.agents.findByIdempotencyKey('peerinstance', 'retry-1'))?.id).toBe(peer.agent.id);
  });

  it('creates exactly one agent when inserts with one key race', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => store.agents.insert(makeAgent({ idempotencyKey: 'race' }))));
    const created = results.filter((r) => r.created);
    expect(created).toHaveLength(1);
    expect(new Set(results.map((r) => r.agent.id))).toEqual(new Set([created[0]?.agent.id]));
    expect(await store.agents.list()).toHaveLength(1);
    expect(await store.events.lastSeq()).toBe(1);
  });

  it('rejects a duplicate id with a typed conflict', async () => {
    const agent = makeAgent();
    await store.agents.insert(agent);
    await expect(store.agents.insert({ ...agent })).rejects.toMatchObject({ status: 409, code: 'agent_exists' });
  });

  it('transitions compare-and-set: applies patch, sets updatedAt and appends the full record', async () => {
    const { agent } = await store.agents.insert(makeAgent());
    const moved = await store.agents.transition(agent.id, ['queued'], 'spawning', { port: 41001, pid: 7 });
    expect(moved?.agent).toMatchObject({ state: 'spawning', port: 41001, pid: 7 });
    expect(moved?.agent.updatedAt).toBe(clock);
    expect(moved?.event.createdAt).toBe(clock);
    expect(moved?.event).toMatchObject({ type: 'agent.state', agentId: agent.id, data: moved?.agent });
    expect(await store.agents.get(agent.id)).toEqual(moved?.agent);

    const seq = await store.events.lastSeq();
    // The caller thinks it is still queued: it lost the race, nothing is written.
    expect(await store.agents.transition(agent.id, ['queued'], 'killed', { exitCode: 9 })).toBeUndefined();
    expect(await store.agents.get(agent.id)).toEqual(moved?.agent);
    expect(await store.events.lastSeq()).toBe(seq);
    expect(await store.agents.transition('missing', ['queued'], 'killed')).toBeUndefined();
  });

  it('ignores store-managed and undefined fields in a patch', async () => {
    const { agent } = await store.agents.insert(makeAgent({ pid: 5 }));
    const patch = { id: 'hijack', state: 'completed', createdAt: 1, pid: undefined, exitCode: 0 } as unknown as Record<string, unknown>;
    const moved = await store.agents.transition(agent.id, ['queued'], 'running', patch);
    expect(moved?.agent).toMatchObject({ id: agent.id, state: 'running', createdAt: agent.createdAt, pid: 5, exitCode: 0 });
  });

  it('never changes a terminal state, even when the caller lists it in from', async () => {
    const { agent } = await store.agents.insert(makeAgent());
    const done = await store.agents.transition(agent.id, ['queued'], 'killed', { endedAt: 9 });
    expect(done?.agent.state).toBe('killed');
    const seq = await store.events.lastSeq();
    for (const to of ['queued', 'running', 'failed', 'killed'] as const) {
      expect(await store.agents.transition(agent.id, ['queued', 'spawning', 'running', 'completed', 'failed', 'killed'], to)).toBeUndefined();
    }
    expect((await store.agents.get(agent.id))?.state).toBe('killed');
    expect(await store.events.lastSeq()).toBe(seq);
  });

  it('updates non-state fields without an event and clears with null', async () => {
    const { agent } = await store.agents.insert(makeAgent({ pid: 10 }));
    const seq = await store.events.lastSeq();
    const updated = await store.agents.update(agent.id, { killRequested: true, pid: null, state: 'running' } as never);
    expect(updated).toMatchObject({ state: 'queued', killRequested: true, pid: null, updatedAt: clock });
    expect(await store.agents.get(agent.id)).toEqual(updated);
    expect(await store.events.lastSeq()).toBe(seq);
    expect(await store.agents.update('missing', { pid: 1 })).toBeUndefined();
  });

  it('picks the next queued agent by priority, then age, then insertion', async () => {
    expect(await store.agents.nextQueued()).toBeUndefined();
    const low = makeAgent({ priority: 1, createdAt: 100 });
    const oldHigh = makeAgent({ priority: 9, createdAt: 200 });
    const newHigh = makeAgent({ priority: 9, createdAt: 300 });
    const tieA = makeAgent({ id: 'zzz-first', priority: 5, createdAt: 50 });
    const tieB = makeAgent({ id: 'aaa-second', priority: 5, createdAt: 50 });
    const runningTop = makeAgent({ priority: 10, createdAt: 1, state: 'running' });
    for (const a of [low, newHigh, tieA, oldHigh, tieB, runningTop]) await store.agents.insert(a);

    const order: string[] = [];
    for (let next = await store.agents.nextQueued(); next; next = await store.agents.nextQueued()) {
      order.push(next.id);
      await store.agents.transition(next.id, ['queued'], 'spawning');
    }
    expect(order).toEqual([oldHigh.id, newHigh.id, tieA.id, tieB.id, low.id]);
  });

  it('lists with filters ordered by creation, and counts by state', async () => {
    const a = await store.agents.insert(makeAgent({ repo: 'r1', taskId: 't1', createdAt: 30 }));
    const b = await store.agents.insert(makeAgent({ repo: 'r2', taskId: 't1', createdAt: 10, origin: 'peer' }));
    const c = await store.agents.insert(makeAgent({ repo: 'r1', taskId: 't2', createdAt: 20 }));
    await store.agents.transition(c.agent.id, ['queued'], 'running');
    const ids = (list: AgentRecord[]): string[] => list.map((x) => x.id);

    expect(ids(await store.agents.list())).toEqual([b.agent.id, c.agent.id, a.agent.id]);
    expect(ids(await store.agents.list({ state: 'queued' }))).toEqual([b.agent.id, a.agent.id]);
    expect(ids(await store.agents.list({ state: ['running', 'killed'] }))).toEqual([c.agent.id]);
    expect(ids(await store.agents.list({ state: [] }))).toEqual([]);
    expect(ids(await store.agents.list({ repo: 'r1', taskId: 't1' }))).toEqual([a.agent.id]);
    expect(ids(await store.agents.list({ origin: 'peer' }))).toEqual([b.agent.id]);
    expect(ids(await store.agents.list({ repo: 'r1', state: 'running' }))).toEqual([c.agent.id]);
    expect(await store.agents.countByState('queued')).toBe(2);
    expect(await store.agents.countByState(['queued', 'running'])).toBe(3);
    expect(await store.agents.countByState('failed')).toBe(0);
  });

  it('reserves the ports of live agents only and removes only terminal agents', async () => {
    const live = await store.agents.insert(makeAgent({ port: 41010 }));
    const running = await store.agents.insert(makeAgent({ port: 41005, state: 'running' }));
    const ended = await store.agents.insert(makeAgent({ port: 41020 }));
    await store.agents.insert(makeAgent());
    await store.agents.transition(ended.agent.id, ['queued'], 'failed', { error: { code: 'x', message: 'y' } });
    expect(await store.agents.reservedPorts()).toEqual([41005, 41010]);

    expect(await store.agents.remove(live.agent.id)).toBe(false);
    expect(await store.agents.remove(running.agent.id)).toBe(false);
    expect(await store.agents.remove(ended.agent.id)).toBe(true);
    expect(await store.agents.remove(ended.agent.id)).toBe(false);
    expect(await store.agents.get(ended.agent.id)).toBeUndefined();
    expect(await store.agents.get(live.agent.id)).toBeDefined();
    // The history stays in the event log.
    expect((await store.events.after(0)).filter((e) => e.agentId === ended.agent.id)).toHaveLength(2);
  });

  it('rolls back a store transaction as a whole', async () => {
    const agent = makeAgent();
    await expect(store.transaction(async (tx) => {
      await tx.agents.insert(agent);
      await tx.events.append('agent.progress', agent.id, agent);
      throw new Error('abort');
    })).rejects.toThrow('abort');
    expect(await store.agents.get(agent.id)).toBeUndefined();
    expect(await store.events.lastSeq()).toBe(0);
  });
});
