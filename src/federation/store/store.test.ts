import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { publicAgent, type PublicAgent } from '../../agents/index.js';
import { registeredMigrations, type SqlStore } from '../../store/index.js';
import { storeBackends } from '../../test-support/store-backends.js';
import { makeAgent } from '../../test-support/store-records.js';
import { defaultGrants } from '../protocol/index.js';
import { FEDERATION_MIGRATIONS, isNewer, openFederationStore, type FederationStore } from './index.js';

const PEER = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

describe.each(storeBackends())('federation store on $name', (backend) => {
  let core: SqlStore;
  let fed: FederationStore;
  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(async () => {
    await backend.fresh();
    core = await backend.open({ migrations: [...registeredMigrations(), ...FEDERATION_MIGRATIONS] });
    fed = openFederationStore(core);
  });
  afterEach(async () => {
    await core.close();
  });

  it('queues an outbox row for every event of a peer-spawned agent, in the transition\'s own transaction', async () => {
    await core.agents.insert(makeAgent({ id: 'local1' }));
    const { event: created } = await core.agents.insert(makeAgent({ id: 'remote1', origin: PEER }));
    const moved = await core.agents.transition('remote1', ['queued'], 'spawning');
    const progress = await core.events.append('agent.progress', 'remote1', moved!.agent);
    await core.events.append('other.kind', 'remote1', moved!.agent);
    expect((await fed.outbox.pending(PEER)).map((r) => r.seq)).toEqual([created!.seq, moved!.event.seq, progress.seq]);
    expect(await fed.outbox.pending('local')).toEqual([]);
    // An A2A client's agent is not local either, but has no peer to deliver to: nothing is queued for it.
    await core.agents.insert(makeAgent({ id: 'fromA2a', origin: 'a2a:tok1' }));
    await core.agents.transition('fromA2a', ['queued'], 'spawning');
    expect(await fed.outbox.pending('a2a:tok1')).toEqual([]);

    // A transition that rolls back leaves no outbox row behind.
    const before = (await fed.outbox.pending(PEER)).length;
    await expect(core.transaction(async (tx) => {
      await tx.agents.transition('remote1', ['spawning'], 'running');
      throw new Error('crash');
    })).rejects.toThrow('crash');
    expect(await fed.outbox.pending(PEER)).toHaveLength(before);
    expect((await core.agents.get('remote1'))!.state).toBe('spawning');
  });

  it('settles outbox rows: delivered, retried later, given up, acknowledged', async () => {
    await core.agents.insert(makeAgent({ id: 'r1', origin: PEER }));
    await core.agents.transition('r1', ['queued'], 'spawning');
    await core.agents.transition('r1', ['spawning'], 'running');
    const [a, b, c] = await fed.outbox.pending(PEER);
    await fed.outbox.delivered(PEER, a!.seq, 1);
    await fed.outbox.retryLater(PEER, b!.seq, Date.now() + 60_000, 'peer_unreachable');
    expect((await fed.outbox.pending(PEER)).map((r) => [r.seq, r.attempts])).toEqual([[b!.seq, 1], [c!.seq, 0]]);
    // Due when its oldest pending row is: later rows wait behind it.
    expect(await fed.outbox.peersWithPending()).toEqual([{ peer: PEER, due: expect.any(Number) }]);
    expect((await fed.outbox.peersWithPending())[0]!.due).toBeGreaterThan(Date.now());
    await fed.outbox.failed(PEER, b!.seq, 'invalid_agent');
    expect((await fed.outbox.after(PEER, 0, 10)).map((r) => r.seq)).toEqual([a!.seq, c!.seq]);
    expect(await fed.outbox.acknowledge(PEER, c!.seq, 2)).toBe(1);
    expect(await fed.outbox.pending(PEER)).toEqual([]);
  });

  it('uses an invite at most once', async () => {
    await fed.invites.insert('hash', defaultGrants(), Date.now() + 1000, Date.now());
    expect(await fed.invites.markUsed('hash', PEER, 1)).toBe(true);
    expect(await fed.invites.markUsed('hash', OTHER, 2)).toBe(false);
    expect(await fed.invites.get('hash')).toMatchObject({ usedAt: 1, usedBy: PEER });
    expect(await fed.invites.markUsed('nope', PEER, 1)).toBe(false);
  });

  it('keeps connection names unique and resolves by id, name or instance id', async () => {
    const base = { url: 'http://x', publicKey: 'k', state: 'active' as const, direction: 'inbound' as const, grants: defaultGrants(), peerGrants: null };
    const c = await fed.connections.insert({ ...base, instanceId: PEER, name: 'one' });
    await expect(fed.connections.insert({ ...base, instanceId: OTHER, name: 'one' })).rejects.toThrow(expect.objectContaining({ code: 'name_taken' }));
    await expect(fed.connections.insert({ ...base, instanceId: PEER, name: 'two' })).rejects.toThrow(expect.objectContaining({ code: 'connection_exists' }));
    for (const ref of [c.id, 'one', PEER]) expect((await fed.connections.resolve(ref))?.id).toBe(c.id);
    expect(await fed.connections.update(c.id, { state: 'suspended', pull: true })).toMatchObject({ state: 'suspended', pull: true, name: 'one' });
  });

  it('never lets an unverified message overwrite a verified one', async () => {
    const row = { messageId: 'm1', direction: 'in' as const, peer: PEER };
    await fed.messages.start({ ...row, kind: 'EVENT', verified: true });
    await fed.messages.finish({ ...row, verified: true }, { status: 'delivered', httpStatus: 200 });
    await fed.messages.start({ ...row, kind: 'EVENT', verified: false });
    await fed.messages.finish({ ...row, verified: false }, { status: 'failed', errorCode: 'bad_signature' });
    expect(await fed.messages.list()).toEqual([expect.objectContaining({ messageId: 'm1', status: 'delivered', verified: true, attempts: 1 })]);
    expect(await fed.messages.list({ status: 'failed' })).toEqual([]);
  });

  it('keeps only the newest unverified messages when trimmed', async () => {
    for (let i = 0; i < 5; i += 1) (await fed.messages.start({ messageId: `u${i}`, direction: 'in', peer: PEER, kind: 'COMMAND', verified: false }));
    await fed.messages.start({ messageId: 'v', direction: 'in', peer: PEER, kind: 'COMMAND', verified: true });
    expect(await fed.messages.trimUnverified(2)).toBe(3);
    expect((await fed.messages.list()).map((m) => m.messageId)).toEqual(['v', 'u4', 'u3']);
    expect(await fed.messages.trimUnverified(2)).toBe(0);
  });

  it('caps messages, settled outbox rows and the replay cache by count, never dropping a pending row (issue 7, point 2)', async () => {
    for (let i = 0; i < 6; i += 1) {
      const row = { messageId: `m${i}`, direction: 'in' as const, peer: PEER, verified: true };
      await fed.messages.start({ ...row, kind: 'COMMAND' });
      if (i !== 0) await fed.messages.finish(row, { status: 'delivered', httpStatus: 200 }); // m0 is still pending
    }
    expect(await fed.messages.cap(2)).toBe(3);
    expect((await fed.messages.list()).map((m) => m.messageId).sort()).toEqual(['m0', 'm4', 'm5']);

    for (let i = 0; i < 5; i += 1) await fed.seen.put(PEER, `s${i}`, { status: 200, bytes: Buffer.from(`answer ${i}`), signature: 'sig' });
    expect(await fed.seen.cap(2)).toBe(3);
    expect(await Promise.all(['s0', 's1', 's2', 's3', 's4'].map(async (id) => (await fed.seen.get(PEER, id)) !== undefined))).toEqual([false, false, false, true, true]);

    await core.agents.insert(makeAgent({ id: 'r1', origin: PEER }));
    await core.agents.transition('r1', ['queued'], 'spawning');
    await core.agents.transition('r1', ['spawning'], 'running');
    await core.agents.transition('r1', ['running'], 'completed');
    const rows = await fed.outbox.pending(PEER);
    expect(rows).toHaveLength(4);
    expect(await fed.outbox.oldestPendingSeq()).toBe(rows[0]!.seq);
    await fed.outbox.delivered(PEER, rows[0]!.seq, 1);
    await fed.outbox.delivered(PEER, rows[1]!.seq, 1);
    await fed.outbox.delivered(PEER, rows[3]!.seq, 1);
    expect(await fed.outbox.oldestPendingSeq()).toBe(rows[2]!.seq);
    expect(await fed.outbox.cap(1)).toBe(2);
    // The newest settled row and the pending one stay.
    expect((await fed.outbox.after(PEER, 0, 10)).map((r) => r.seq)).toEqual([rows[2]!.seq, rows[3]!.seq]);
  });

  describe('mirror', () => {
    const view = (overrides: Partial<PublicAgent>): PublicAgent => publicAgent(makeAgent({ id: 'm1', origin: 'hub', ...overrides }));

    it('orders views: terminal is final, later updates win, the further state wins a tie', async () => {
      const running = view({ state: 'running', updatedAt: 10 });
      expect(isNewer(running, view({ state: 'completed', updatedAt: 11 }))).toBe(true);
      expect(isNewer(running, view({ state: 'spawning', updatedAt: 9 }))).toBe(false);
      expect(isNewer(running, view({ state: 'spawning', updatedAt: 10 }))).toBe(false);
      expect(isNewer(running, view({ state: 'killed', updatedAt: 10 }))).toBe(true);
      expect(isNewer(view({ state: 'failed', updatedAt: 10 }), view({ state: 'running', updatedAt: 99 }))).toBe(false);
    });

    it('applies each event seq once, logs it, and keeps a later view against an older answer', async () => {
      const first = await fed.mirror.applyEvent('agent.state', PEER, view({ state: 'queued', updatedAt: 1 }), 5);
      expect(first.outcome).toBe('applied');
      expect((await fed.mirror.applyEvent('agent.state', PEER, view({ state: 'queued', updatedAt: 1 }), 5)).outcome).toBe('duplicate');
      expect((await fed.mirror.applyEvent('agent.state', PEER, view({ state: 'running', updatedAt: 3 }), 7)).outcome).toBe('applied');
      // A spawn answer that arrives late shows an older state: kept out.
      expect((await fed.mirror.write(PEER, view({ state: 'queued', updatedAt: 1 }))).outcome).toBe('stale');
      expect(await fed.mirror.get('m1')).toMatchObject({ lastSeq: 7, agent: { state: 'running' } });
      expect((await core.events.after(0)).map((e) => [e.agentId, e.data.state])).toEqual([['m1', 'queued'], ['m1', 'running']]);
      // Another instance may not write over it.
      expect((await fed.mirror.applyEvent('agent.state', OTHER, view({ state: 'completed', updatedAt: 9 }), 8)).outcome).toBe('foreign');
      expect((await fed.mirror.write(OTHER, view({ state: 'completed', updatedAt: 9 }))).outcome).toBe('foreign');
      expect((await fed.mirror.list({ state: 'running', instanceId: PEER })).map((e) => e.agent.id)).toEqual(['m1']);
      expect(await fed.mirror.list({ repo: 'other' })).toEqual([]);
    });
  });
});
