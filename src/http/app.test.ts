import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInstance, type Instance } from '../instance/index.js';

describe('http app', () => {
  let home: string;
  let instance: Instance;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mosaic-app-'));
    instance = await startInstance({ env: {}, config: { home, port: 0, logLevel: 'silent' } });
  });
  afterAll(async () => {
    await instance.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers health with version and instance id', async () => {
    const res = await fetch(`${instance.url}/api/v1/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.status).toBe('ok');
    expect(body.instanceId).toBe(instance.identity.instanceId);
    expect(body.instanceId).toMatch(/^[a-z2-7]{32}$/);
  });

  it('maps unknown routes to a typed 404', async () => {
    const res = await fetch(`${instance.url}/api/v1/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'route_not_found', message: 'no route GET /api/v1/nope' } });
  });
});
