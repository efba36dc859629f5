import { sql } from '../../store/kysely.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FEDERATION_MIGRATIONS } from '../../federation/index.js';
import { registeredMigrations, type SqlStore } from '../../store/index.js';
import { storeBackends } from '../../test-support/store-backends.js';
import { A2A_MIGRATIONS } from './migrations.js';
import { A2aTokens } from './service.js';
import { SqlA2aTokenStore } from './store.js';

describe.each(storeBackends())('A2A client tokens on $name', (backend) => {
  let core: SqlStore;
  let tokens: A2aTokens;
  let now = 1_000_000;
  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(async () => {
    await backend.fresh();
    core = await backend.open({ migrations: [...registeredMigrations(), ...FEDERATION_MIGRATIONS, ...A2A_MIGRATIONS] });
    tokens = new A2aTokens(new SqlA2aTokenStore(core), () => now);
  });
  afterEach(async () => {
    await core.close();
  });

  it('keeps only the hash, authenticates the secret, and refuses it once revoked', async () => {
    const created = await tokens.create({ repos: ['web'], runtimes: ['claude', 'command'], maxActiveAgents: 2 });
    expect(created.token).toMatch(/^mosaic_a2a_[A-Za-z0-9_-]{43}$/);
    expect(created.grants).toMatchObject({ repos: ['web'], runtimes: ['claude', 'command'], maxActiveAgents: 2 });
    const { rows } = await sql<Record<string, unknown>>`SELECT * FROM a2a_tokens`.execute(core.sql.db);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rows)).not.toContain(created.token.slice('mosaic_a2a_'.length));

    expect((await tokens.authenticate(created.token))?.id).toBe(created.id);
    expect(await tokens.authenticate(`${created.token.slice(0, -1)}x`)).toBeUndefined();
    expect(await tokens.authenticate('mosaic_a2a_short')).toBeUndefined();
    expect((await tokens.list())).toEqual([{ id: created.id, grants: created.grants, createdAt: now, lastUsedAt: now, revokedAt: null }]);

    now += 5000;
    expect((await tokens.revoke(created.id)).revokedAt).toBe(now);
    expect(await tokens.authenticate(created.token)).toBeUndefined();
    await expect(tokens.revoke(created.id)).rejects.toMatchObject({ code: 'token_revoked' });
    await expect(tokens.revoke('nosuch')).rejects.toMatchObject({ code: 'token_not_found', status: 404 });
  });

  it('checks grants as a peer\'s: defaults for what is left out, 400 invalid_grants for the rest', async () => {
    expect((await tokens.create({})).grants).toMatchObject({ repos: [], runtimes: ['claude'], maxActiveAgents: 0 });
    await expect(tokens.create({ repos: ['../x'] })).rejects.toMatchObject({ code: 'invalid_grants', status: 400 });
    await expect(tokens.create({ admin: true })).rejects.toMatchObject({ code: 'invalid_grants' });
  });
});
