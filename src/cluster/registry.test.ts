import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore, registeredMigrations, type SqlStore } from '../store/index.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { CLUSTER_MIGRATIONS, NodeAuth, nodeRegistry, type NodeRegistry } from './index.js';

const caps = { runtimes: ['command'], repos: [], reposMissing: [] };

describe('the node registry (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: SqlStore;
  let nodes: NodeRegistry;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openPostgresStore(db.url, { migrations: [...registeredMigrations(), ...CLUSTER_MIGRATIONS] });
    nodes = nodeRegistry(store);
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  it('joins nodes, lists them with their URL and state, drains, and declares a silent one lost once', async () => {
    const a = await nodes.join({ name: 'a', url: 'http://127.0.0.1:1', capacity: 2, version: '1', capabilities: caps, leaseMs: 60_000 });
    const b = await nodes.join({ name: 'b', url: 'http://127.0.0.1:2', capacity: 3, version: '1', capabilities: caps, leaseMs: 60_000 });
    expect(a.epoch).toBe(1);
    expect(await nodes.urlOf('b')).toBe('http://127.0.0.1:2');
    await expect(nodes.urlOf('zz')).rejects.toMatchObject({ code: 'unknown_node', status: 404 });
    expect(await nodes.setDraining('b', true)).toBe(true);
    expect((await nodes.list()).map((n) => [n.name, n.state, n.capacity])).toEqual([['a', 'up', 2], ['b', 'draining', 3]]);

    // A lease of 1 ms runs out at once: any node's sweep declares it, exactly one sweep does.
    expect(await nodes.renew(b, 1, caps, 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    const [first, second] = await Promise.all([nodes.declareExpired(), nodes.declareExpired()]);
    expect([...first, ...second]).toEqual([{ name: 'b', epoch: b.epoch }]);
    expect((await nodes.get('b'))?.state).toBe('lost');
    await expect(nodes.urlOf('b')).rejects.toMatchObject({ code: 'node_lost', status: 409 });
    // Its lease is gone: it cannot renew with the old epoch, and rejoining gives a new one.
    expect(await nodes.renew(b, 0, caps, 60_000)).toBe(false);
    const again = await nodes.join({ name: 'b', url: 'http://127.0.0.1:2', capacity: 3, version: '1', capabilities: caps, leaseMs: 60_000 });
    expect(again.epoch).toBe(b.epoch + 1);
    expect((await nodes.get('b'))?.state).toBe('draining'); // the admin's drain survives
    expect(await nodes.renew(again, 0, caps, 60_000)).toBe(true);
  });
});

describe('node-to-node authentication', () => {
  const secret = 'a-cluster-secret-of-enough-length-0123456789';
  it('accepts a request signed by a node of the cluster, once', () => {
    const a = new NodeAuth(secret, 'a');
    const b = new NodeAuth(secret, 'b');
    const headers = a.sign('POST', '/internal/x?y=1', '{"k":1}');
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    expect(b.verify({ method: 'POST', url: '/internal/x?y=1', headers, bodySha256: sha('{"k":1}') })).toBe('a');
    // Replayed, changed, or signed with another secret: refused.
    expect(() => b.verify({ method: 'POST', url: '/internal/x?y=1', headers, bodySha256: sha('{"k":1}') })).toThrow(/replayed/);
    const fresh = a.sign('POST', '/internal/x', '{"k":1}');
    expect(() => b.verify({ method: 'POST', url: '/internal/x', headers: fresh, bodySha256: sha('{"k":2}') })).toThrow(/invalid node signature/);
    expect(() => b.verify({ method: 'GET', url: '/internal/x', headers: a.sign('GET', '/internal/y') })).toThrow(/invalid node signature/);
    const stranger = new NodeAuth(`${secret}-other`, 'a');
    expect(() => b.verify({ method: 'GET', url: '/internal/x', headers: stranger.sign('GET', '/internal/x') })).toThrow(/invalid node signature/);
    expect(() => b.verify({ method: 'GET', url: '/internal/x', headers: {} })).toThrow(/missing/);
  });

  it('refuses a request signed too long ago', () => {
    let now = 1_000_000;
    const a = new NodeAuth(secret, 'a', () => now);
    const b = new NodeAuth(secret, 'b', () => now);
    const headers = a.sign('GET', '/internal/x');
    now += 61_000;
    expect(() => b.verify({ method: 'GET', url: '/internal/x', headers })).toThrow(/window/);
  });
});
