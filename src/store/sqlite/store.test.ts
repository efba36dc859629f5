import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from './index.js';
import { appliedMigrations } from './migrations.js';
import { CORE_MIGRATIONS } from './migrations/001-core.js';
import { makeAgent, tempDir } from '../../test-support/store-records.js';

const FIXTURE = fileURLToPath(new URL('./race-insert.fixture.ts', import.meta.url));

interface Child {
  ready: Promise<void>;
  done: Promise<string>;
  go: () => void;
}

/** Runs the race fixture under tsx in its own process. */
function startChild(file: string, name: string, keys: number): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, file, name, String(keys)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  const done = new Promise<string>((resolve, reject) => {
    child.on('close', (code) => (code === 0 ? resolve(out.slice('ready\n'.length)) : reject(new Error(`child ${name} exited ${code}: ${err}`))));
  });
  return { ready: Promise.race([ready, done.then(() => undefined)]), done, go: () => child.stdin.end('go\n') };
}

describe('SqliteStore', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  const dbFile = (): string => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    return join(dir, 'mosaic.db');
  };

  it('persists repos, agents and events across reopen', async () => {
    const file = dbFile();
    const first = openSqliteStore(file);
    const repo = { name: 'demo', path: '/srv/demo', baseBranch: 'main', setup: ['make'], copyFiles: ['.env'], poolSize: 2, shareDirs: [], setupInputs: null, network: 'host' as const, projectConfig: true, createdAt: 3 };
    await first.repos.insert(repo);
    const { agent } = await first.agents.insert(makeAgent({ idempotencyKey: 'persist', env: { A: 'b' } }));
    const moved = await first.agents.transition(agent.id, ['queued'], 'running', { pid: 99, port: 42000 });
    const events = await first.events.after(0);
    await first.close();
    await first.close(); // closing twice is harmless

    const second = openSqliteStore(file);
    expect(await second.repos.list()).toEqual([repo]);
    expect(await second.agents.get(agent.id)).toEqual(moved?.agent);
    expect((await second.agents.get(agent.id))?.env).toEqual({ A: 'b' });
    expect(await second.events.after(0)).toEqual(events);
    expect(await second.agents.reservedPorts()).toEqual([42000]);
    // The idempotency key still holds after a restart.
    const retry = await second.agents.insert(makeAgent({ idempotencyKey: 'persist' }));
    expect(retry).toMatchObject({ created: false, agent: { id: agent.id } });
    expect((await second.events.append('agent.progress', agent.id, agent)).seq).toBe(events.length + 1);
    await second.close();
  });

  it('creates each idempotent agent once when processes race on one file', async () => {
    const file = dbFile();
    const parent = openSqliteStore(file);
    const keys = 40;
    const children = ['p1', 'p2', 'p3'].map((name) => startChild(file, name, keys));
    await Promise.all(children.map((c) => c.ready));
    children.forEach((c) => c.go());
    const outputs = await Promise.all(children.map((c) => c.done));

    const results = outputs.flatMap((o) => o.trim().split('\n').map((l) => JSON.parse(l) as { key: string; id: string; created: boolean }));
    expect(results).toHaveLength(3 * keys);
    const agents = await parent.agents.list();
    expect(agents).toHaveLength(keys);
    for (let i = 0; i < keys; i += 1) {
      const forKey = results.filter((r) => r.key === `key-${i}`);
      expect(forKey.filter((r) => r.created)).toHaveLength(1);
      const owner = agents.find((a) => a.idempotencyKey === `key-${i}`);
      expect(forKey.every((r) => r.id === owner?.id)).toBe(true);
    }
    // One creation event per agent, in one gapless sequence.
    expect((await parent.events.after(0)).map((e) => e.seq)).toEqual(Array.from({ length: keys }, (_, i) => i + 1));
    await parent.close();
  }, 60_000);

  it('migrates a new file once when several processes open it at the same time', async () => {
    const file = dbFile();
    const children = ['m1', 'm2', 'm3'].map((name) => startChild(file, name, 1));
    await Promise.all(children.map((c) => c.ready));
    children.forEach((c) => c.go());
    await Promise.all(children.map((c) => c.done));
    const store = openSqliteStore(file);
    expect(appliedMigrations(store.db).map((m) => m.version)).toEqual(CORE_MIGRATIONS.map((m) => m.version));
    expect(await store.agents.list()).toHaveLength(1);
    await store.close();
  }, 60_000);
});
