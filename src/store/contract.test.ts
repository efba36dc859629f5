import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CORE_MIGRATIONS, type SqlStore } from './index.js';
import { freshBuiltCli, ROOT } from '../test-support/build.js';
import { storeBackends } from '../test-support/store-backends.js';
import { makeAgent } from '../test-support/store-records.js';
import type { AgentRecord } from '../core/agent-model.js';

/**
 * The store's guarantees, the same on both backends, including across
 * processes sharing one database: only one of two concurrent transitions
 * wins, an idempotency key creates one agent however many processes race,
 * event seqs are strictly increasing in commit order with no holes (a reader
 * resuming after any cursor misses nothing), and a new database is migrated
 * once when several processes open it at once.
 */

const FIXTURE = fileURLToPath(new URL('../test-support/store-race.fixture.mjs', import.meta.url));
/** The store the children open: the fresh build (a plain node start), else the sources under tsx. */
const BUILT = freshBuiltCli() !== undefined;
const STORE_MODULE = BUILT ? pathToFileURL(join(ROOT, 'dist', 'store', 'index.js')).href : new URL('./index.ts', import.meta.url).href;
const LOADER = BUILT ? [] : ['--import', 'tsx'];

interface Child {
  ready: Promise<void>;
  done: Promise<string[]>;
  go: () => void;
}

/** The records a child writes: one agent per idempotency key (`insert`), the agent its events are about (`append`). */
function recordsFor(name: string, mode: string, count: number): AgentRecord[] {
  if (mode === 'insert') return Array.from({ length: count }, (_, i) => makeAgent({ id: `${name}-${i}`, idempotencyKey: `key-${i}` }));
  if (mode === 'append') return [makeAgent({ id: `${name}-ev` })];
  return [];
}

/** Runs the race fixture in its own process. */
function startChild(target: string, name: string, mode: string, count: number): Child {
  const args = [...LOADER, FIXTURE, STORE_MODULE, target, name, mode, String(count), JSON.stringify(recordsFor(name, mode, count))];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  // A child that already ended (its result is in `done`) closed its stdin: the 'go' it no longer needs is EPIPE.
  child.stdin.on('error', () => undefined);
  const done = new Promise<string[]>((resolve, reject) => {
    child.on('close', (code) => (code === 0
      ? resolve(out.slice('ready\n'.length).split('\n').filter((l) => l !== ''))
      : reject(new Error(`child ${name} exited ${code}: ${err}`))));
  });
  return { ready: Promise.race([ready, done.then(() => undefined)]), done, go: () => child.stdin.end('go\n') };
}

async function race(target: string, names: string[], mode: string, count: number): Promise<string[][]> {
  const children = names.map((name) => startChild(target, name, mode, count));
  await Promise.all(children.map((c) => c.ready));
  children.forEach((c) => c.go());
  return Promise.all(children.map((c) => c.done));
}

describe.each(storeBackends())('store contract on $name', (backend) => {
  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(() => backend.fresh());

  const withStore = async <T>(fn: (store: SqlStore) => Promise<T>): Promise<T> => {
    const store = await backend.open();
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };

  it('persists repos, agents and events across reopen', async () => {
    const first = await backend.open();
    const repo = { name: 'demo', path: '/srv/demo', baseBranch: 'main', setup: ['make'], copyFiles: ['.env'], poolSize: 2, shareDirs: [], setupInputs: null, network: 'host' as const, projectConfig: true, retryOnNodeLost: false, createdAt: 3 };
    await first.repos.insert(repo);
    const { agent } = await first.agents.insert(makeAgent({ idempotencyKey: 'persist', env: { A: 'b' } }));
    const timings = { queued: 3, worktree: 250, copy: 0, sandbox: 12, setup: 0 };
    const moved = await first.agents.transition(agent.id, ['queued'], 'running', { pid: 99, port: 42000, timings });
    const events = await first.events.after(0);
    await first.close();
    await first.close(); // closing twice is harmless

    await withStore(async (second) => {
      expect(await second.repos.list()).toEqual([repo]);
      expect(await second.agents.get(agent.id)).toEqual(moved?.agent);
      expect((await second.agents.get(agent.id))?.env).toEqual({ A: 'b' });
      expect((await second.agents.get(agent.id))?.timings).toEqual(timings); // issue 24: kept with the record
      expect(await second.events.after(0)).toEqual(events);
      expect(await second.agents.reservedPorts()).toEqual([42000]);
      // The idempotency key still holds after a restart.
      const retry = await second.agents.insert(makeAgent({ idempotencyKey: 'persist' }));
      expect(retry).toMatchObject({ created: false, agent: { id: agent.id } });
      expect((await second.events.append('agent.progress', agent.id, agent)).seq).toBe(events.length + 1);
    });
  });

  it('creates each idempotent agent once when processes race on one database', async () => {
    const keys = 30;
    await withStore(async () => undefined); // migrated before the race: the race is about inserts
    const outputs = await race(backend.target(), ['p1', 'p2', 'p3'], 'insert', keys);
    const results = outputs.flat().map((l) => JSON.parse(l) as { key: string; id: string; created: boolean });
    expect(results).toHaveLength(3 * keys);
    await withStore(async (store) => {
      const agents = await store.agents.list();
      expect(agents).toHaveLength(keys);
      for (let i = 0; i < keys; i += 1) {
        const forKey = results.filter((r) => r.key === `key-${i}`);
        expect(forKey.filter((r) => r.created)).toHaveLength(1);
        const owner = agents.find((a) => a.idempotencyKey === `key-${i}`);
        expect(forKey.every((r) => r.id === owner?.id)).toBe(true);
      }
      // One creation event per agent, in one gapless sequence.
      expect((await store.events.after(0)).map((e) => e.seq)).toEqual(Array.from({ length: keys }, (_, i) => i + 1));
    });
  }, 120_000);

  it('lets exactly one of two processes win each concurrent transition', async () => {
    const n = 25;
    await withStore(async (store) => {
      for (let i = 0; i < n; i += 1) await store.agents.insert(makeAgent({ id: `race-${i}` }));
    });
    const outputs = await race(backend.target(), ['t1', 't2'], 'transition', n);
    const results = outputs.flat().map((l) => JSON.parse(l) as { id: string; won: boolean });
    for (let i = 0; i < n; i += 1) {
      expect(results.filter((r) => r.id === `race-${i}` && r.won)).toHaveLength(1);
    }
    await withStore(async (store) => {
      expect(await store.agents.countByState('running')).toBe(n);
      // n creations and n transitions: the losers wrote nothing.
      const events = await store.events.after(0);
      expect(events.filter((e) => e.data.state === 'running')).toHaveLength(n);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
    });
  }, 120_000);

  it('gives seqs in commit order: readers resuming from every cursor during concurrent writers miss and repeat nothing', async () => {
    const perWriter = 60;
    const writers = ['w1', 'w2', 'w3'];
    const total = perWriter * writers.length;
    await withStore(async (reader) => {
      const seen: number[] = [];
      let cursor = 0;
      let writing = true;
      let failed = false;
      const follow = (async () => {
        // Like an SSE client: read after its cursor, move the cursor to the last seq read, again.
        while (writing || (cursor < total && !failed)) {
          const page = await reader.events.after(cursor, 7);
          for (const e of page) {
            // Gapless: what a reader sees after its cursor starts right after it and has no holes.
            expect(e.seq).toBe(cursor + 1);
            seen.push(e.seq);
            cursor = e.seq;
          }
          if (page.length === 0) await new Promise((r) => setTimeout(r, 5));
        }
      })();
      try {
        await race(backend.target(), writers, 'append', perWriter);
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        writing = false;
        await follow.catch(() => undefined);
      }
      await follow;
      expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(await reader.events.lastSeq()).toBe(total);
      for (let c = 0; c <= total; c += 17) {
        expect((await reader.events.after(c, total)).map((e) => e.seq)).toEqual(Array.from({ length: total - c }, (_, i) => c + i + 1));
      }
    });
  }, 120_000);

  it('prunes by age and count but keeps what is still owed, and never reuses a seq', async () => {
    let clock = 1000;
    const store = await backend.open({ now: () => clock });
    try {
      const agent = makeAgent();
      for (let i = 0; i < 10; i += 1) {
        clock = 1000 + i;
        await store.events.append('agent.progress', agent.id, agent);
      }
      // Older than 1003 goes (seqs 1–3), and beyond the newest 5 (1–5), but seq 4 on is still owed.
      expect(await store.events.prune({ before: 1003, maxRows: 5, keepFrom: 4 })).toBe(3);
      expect((await store.events.after(0)).map((e) => e.seq)).toEqual([4, 5, 6, 7, 8, 9, 10]);
      expect(await store.events.prune({ before: 0, maxRows: 5 })).toBe(2);
      expect((await store.events.after(0)).map((e) => e.seq)).toEqual([6, 7, 8, 9, 10]);
      expect(await store.events.lastSeq()).toBe(10);
      expect((await store.events.append('agent.progress', agent.id, agent)).seq).toBe(11);
    } finally {
      await store.close();
    }
  });

  it('migrates a new database once when three processes open it at the same time', async () => {
    await race(backend.target(), ['m1', 'm2', 'm3'], 'open', 0);
    await withStore(async (store) => {
      const rows = await store.sql.db.selectFrom('schema_migrations').select(['version', 'name']).orderBy('version').execute();
      expect(rows.map((r) => r.version)).toEqual(CORE_MIGRATIONS.map((m) => m.version));
      expect(await store.agents.list()).toEqual([]);
    });
  }, 120_000);
});
