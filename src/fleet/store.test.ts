import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { registeredMigrations } from '../store/index.js';
import { storeBackends } from '../test-support/store-backends.js';
import { makeAgent } from '../test-support/store-records.js';
import { FLEET_MIGRATIONS } from './migrations.js';
import { FleetStore } from './store.js';
import { windowOf } from './windows.js';

const usage = { inputTokens: 100, outputTokens: 40, cachedInputTokens: 10, reasoningTokens: 5 };

/** The fleet tables (migration 500) read and write the same on SQLite and PostgreSQL. */
describe.each(storeBackends())('fleet store on $name', (backend) => {
  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(() => backend.fresh());
  const open = () => backend.open({ migrations: [...registeredMigrations(), ...FLEET_MIGRATIONS] });

  it('keeps budgets, spend and limits, and sums spend by window and scope', async () => {
    const store = await open();
    try {
      const fleet = new FleetStore(store);
      await fleet.putBudget({ scope: 'instance', usd: 5.5, per: 'day', onExhausted: 'queue' }, 1);
      await fleet.putBudget({ scope: 'instance', usd: 7.25, per: 'week', onExhausted: 'kill' }, 2);
      await fleet.putBudget({ scope: 'repo:web', usd: 1, per: 'month', onExhausted: 'queue' }, 3);
      expect(await fleet.budgets()).toEqual([
        { scope: 'instance', usd: 7.25, per: 'week', onExhausted: 'kill', createdAt: 1, updatedAt: 2 },
        { scope: 'repo:web', usd: 1, per: 'month', onExhausted: 'queue', createdAt: 3, updatedAt: 3 },
      ]);
      expect(await fleet.removeBudget('repo:web')).toBe(true);
      expect(await fleet.removeBudget('repo:web')).toBe(false);

      await fleet.putSpend({ agentId: 'a1', repo: 'web', origin: 'local', runtime: 'claude', costUsd: 0.1, usage, at: 1000 }, 1);
      await fleet.putSpend({ agentId: 'a1', repo: 'web', origin: 'local', runtime: 'claude', costUsd: 0.25, usage, at: 1000 }, 2);
      await fleet.putSpend({ agentId: 'a2', repo: 'api', origin: 'peer-x', runtime: 'codex', costUsd: 0.5, usage, at: 5000 }, 3);
      expect(await fleet.spendOf('a1')).toBe(0.25);
      expect(await fleet.spent(0)).toBeCloseTo(0.75, 9);
      expect(await fleet.spent(2000)).toBeCloseTo(0.5, 9);
      expect(await fleet.spent(0, { repo: 'web' })).toBeCloseTo(0.25, 9);
      expect(await fleet.spent(0, { origin: 'peer-x' })).toBeCloseTo(0.5, 9);
      expect(await fleet.spent(0, { repo: 'none' })).toBe(0);
      const totals = await fleet.totals();
      expect(totals.find((t) => t.runtime === 'codex')).toEqual({ repo: 'api', runtime: 'codex', origin: 'peer-x', costUsd: 0.5, usage });

      await fleet.putLimit({ runtime: 'claude', state: 'paused', resetsAt: 9_000_000_000_000 }, 1);
      await fleet.putLimit({ runtime: 'claude', state: 'warning', resetsAt: 9_000_000_000_001 }, 2);
      expect(await fleet.limits()).toEqual([{ runtime: 'claude', state: 'warning', resetsAt: 9_000_000_000_001 }]);
      await fleet.removeLimit('claude');
      expect(await fleet.limits()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe.each(storeBackends())('queue skips on $name', (backend) => {
  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(() => backend.fresh());

  it('passes over held runtimes, repositories and origins, and marks only agents queued since', async () => {
    const store = await backend.open();
    try {
      const claude = (await store.agents.insert(makeAgent({ runtime: { kind: 'claude', model: 'sonnet' }, priority: 9 }))).agent;
      const spentRepo = (await store.agents.insert(makeAgent({ repo: 'spent', priority: 8 }))).agent;
      const peer = (await store.agents.insert(makeAgent({ origin: 'peer-1', priority: 7 }))).agent;
      const free = (await store.agents.insert(makeAgent({ priority: 1 }))).agent;
      expect((await store.agents.nextQueued())?.id).toBe(claude.id);
      expect((await store.agents.nextQueued({ runtimes: ['claude'], repos: ['spent'], origins: ['peer-1'] }))?.id).toBe(free.id);
      expect((await store.agents.nextQueued({ runtimes: ['claude', 'command'] }))).toBeUndefined();
      const all = await store.agents.queued();
      expect(all.map((a) => a.id)).toEqual([claude.id, spentRepo.id, peer.id, free.id]);
      expect(all[0]).toMatchObject({ repo: 'demo', origin: 'local', runtime: { kind: 'claude' }, waitingFor: null });
      expect((await store.agents.queued(all[2]!.seq)).map((a) => a.id)).toEqual([free.id]);
    } finally {
      await store.close();
    }
  });
});

describe('budget windows', () => {
  it('are UTC days, weeks from Monday and calendar months', () => {
    const now = Date.UTC(2026, 11, 6, 22, 30); // a Sunday
    expect(windowOf('day', now)).toEqual({ start: Date.UTC(2026, 11, 6), resetsAt: Date.UTC(2026, 11, 7) });
    expect(windowOf('week', now)).toEqual({ start: Date.UTC(2026, 10, 30), resetsAt: Date.UTC(2026, 11, 7) });
    expect(windowOf('month', now)).toEqual({ start: Date.UTC(2026, 11, 1), resetsAt: Date.UTC(2027, 0, 1) });
  });
});
