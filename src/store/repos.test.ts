import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStore } from './index.js';
import type { RepoRecord } from './types.js';
import { storeBackends } from '../test-support/store-backends.js';

describe.each(storeBackends())('repos table on $name', (backend) => {
  let store: SqlStore;
  const repo = (name: string, extra: Partial<RepoRecord> = {}): RepoRecord =>
    ({ name, path: `/srv/${name}`, baseBranch: 'main', setup: null, copyFiles: [], poolSize: 0, shareDirs: [], setupInputs: null, network: 'host', projectConfig: true, retryOnNodeLost: false, createdAt: 1, ...extra });

  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(async () => {
    await backend.fresh();
    store = await backend.open();
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores, lists by name and removes repositories', async () => {
    const b = repo('beta', {
      network: 'none', projectConfig: false, retryOnNodeLost: true,
      setup: ['npm', 'ci'], copyFiles: ['.env', 'config/local.json'], baseBranch: 'develop',
      poolSize: 3, shareDirs: ['node_modules'], setupInputs: ['package-lock.json', 'web/*.lock'],
    });
    const a = repo('alpha');
    await store.repos.insert(b);
    await store.repos.insert(a);
    expect(await store.repos.get('beta')).toEqual(b);
    expect(await store.repos.get('alpha')).toEqual(a);
    expect((await store.repos.get('alpha'))?.setup).toBeNull();
    expect(await store.repos.list()).toEqual([a, b]);
    expect(await store.repos.remove('alpha')).toBe(true);
    expect(await store.repos.remove('alpha')).toBe(false);
    expect(await store.repos.get('alpha')).toBeUndefined();
    expect(await store.repos.list()).toEqual([b]);
  });

  it('a repository shared by URL is read as this node\'s clone under its home (issue 21)', async () => {
    await store.repos.insert(repo('web', { url: 'https://example.com/web.git', path: '/home-a/repos/web' }));
    expect(await store.repos.get('web')).toMatchObject({ url: 'https://example.com/web.git', path: 'repos/web' });
    store.repos.cloneHome = '/home-b';
    expect(await store.repos.get('web')).toMatchObject({ url: 'https://example.com/web.git', path: '/home-b/repos/web' });
    expect((await store.repos.list())[0]?.path).toBe('/home-b/repos/web');
  });

  it('rejects a taken name or path with typed conflicts', async () => {
    await store.repos.insert(repo('alpha'));
    await expect(store.repos.insert(repo('alpha', { path: '/elsewhere' }))).rejects.toMatchObject({ status: 409, code: 'repo_exists' });
    await expect(store.repos.insert(repo('other', { path: '/srv/alpha' }))).rejects.toMatchObject({ status: 409, code: 'repo_path_registered' });
    expect(await store.repos.list()).toHaveLength(1);
  });
});
