import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint } from '../identity/index.js';
import { connectionOn, invite, spawnRemote, startPair, TEST_GRANTS, type Pair } from '../../test-support/federation.js';
import type { ConnectionRecord } from '../store/index.js';
import { FAST_FEDERATION } from '../../test-support/federation.js';
import { startTestInstance } from '../../test-support/instance.js';

type ErrorBody = { error: { code: string } };

/** Issue 3: connections by invite or by request/accept, and their administration. */
describe('connections', () => {
  let pair: Pair | undefined;
  afterEach(async () => {
    await pair?.stop();
    pair = undefined;
  });

  it('publishes a self-certifying identity, and documents the federation API', async () => {
    pair = await startPair({ connect: false });
    const res = await fetch(`${pair.spoke.url}/api/v1/federation/instance`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { instanceId: string; publicKey: string; url: string; name: string; protocolVersion: string; capabilities: string[] };
    expect(doc).toMatchObject({ instanceId: pair.spoke.identity.instanceId, url: pair.spoke.url, name: 'spoke', protocolVersion: '1' });
    expect(fingerprint(Buffer.from(doc.publicKey, 'base64'))).toBe(doc.instanceId);
    expect(doc.capabilities).toEqual(expect.arrayContaining(['agent.spawn', 'agent.diff']));
    const openapi = (await (await fetch(`${pair.spoke.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const path of ['/api/v1/federation/invites', '/api/v1/federation/connections', '/api/v1/federation/connections/{id}/accept',
      '/api/v1/federation/connections/{id}', '/api/v1/federation/messages', '/api/v1/federation/instance', '/api/v1/federation/incoming/{kind}']) {
      expect(openapi.paths[path], path).toBeDefined();
    }
    // Admin routes need the token; the public ones do not.
    expect((await fetch(`${pair.spoke.url}/api/v1/federation/connections`)).status).toBe(401);
  });

  it('without a token: pending on both sides until the spoke accepts, with the grants the admin gives', async () => {
    pair = await startPair({ connect: false });
    const { hub, spoke } = pair;
    const res = await hub.api<ConnectionRecord>('POST', '/federation/connections', { url: spoke.url });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'pending', direction: 'outbound', name: 'spoke' });
    const request = await connectionOn(spoke, hub.identity.instanceId);
    expect(request).toMatchObject({ state: 'pending', direction: 'inbound', name: 'hub', grants: { repos: [], maxActiveAgents: 0 } });
    expect((await spoke.api<{ connections: ConnectionRecord[] }>('GET', '/federation/connections')).body.connections).toHaveLength(1);

    // Nothing runs before acceptance.
    expect((await spawnRemote(hub, 'true')).body).toMatchObject({ error: { code: 'peer_not_active' } });

    const accepted = await spoke.api<ConnectionRecord>('POST', `/federation/connections/${request.id}/accept`, { grants: TEST_GRANTS });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ state: 'active', grants: TEST_GRANTS });
    const onHub = await connectionOn(hub, 'spoke');
    expect(onHub).toMatchObject({ state: 'active', peerGrants: TEST_GRANTS });
    expect((await spawnRemote(hub, 'true')).status).toBe(202);

    // Accepting again is an invalid transition; so is connecting again.
    expect((await spoke.api<ErrorBody>('POST', `/federation/connections/hub/accept`)).body.error.code).toBe('invalid_transition');
    expect((await hub.api<ErrorBody>('POST', '/federation/connections', { url: spoke.url })).body.error.code).toBe('already_connected');
    // From the other side too, saying that grants are per direction (issue 22, defect 7).
    const reverse = (await spoke.api<ErrorBody & { error: { message: string } }>('POST', '/federation/connections', { url: hub.url })).body.error;
    expect(reverse.code).toBe('already_connected');
    expect(reverse.message).toContain('already connected to hub: one connection serves both directions');
    expect(reverse.message).toContain("'mosaic peers grant hub --repos … --max-agents …' on this instance");
  });

  it('a rejected request ends rejected on both sides', async () => {
    pair = await startPair({ connect: false });
    const { hub, spoke } = pair;
    await hub.api('POST', '/federation/connections', { url: spoke.url, name: 'far' });
    const rejected = await spoke.api<ConnectionRecord>('POST', '/federation/connections/hub/reject');
    expect(rejected.body.state).toBe('rejected');
    expect((await connectionOn(hub, 'far')).state).toBe('rejected');
    // The hub asking again gets the refusal rather than a new request.
    const again = await hub.api<ErrorBody>('POST', '/federation/connections', { url: spoke.url });
    expect(again).toMatchObject({ status: 403, body: { error: { code: 'connection_rejected' } } });
  });

  it('never lets a peer shadow another by announcing its instance id as a name', async () => {
    pair = await startPair({ connect: false });
    const { hub, spoke } = pair;
    // An impostor names itself after the hub's instance id and asks first.
    const impostor = await startTestInstance({ name: hub.identity.instanceId, ...FAST_FEDERATION });
    try {
      expect((await impostor.api('POST', '/federation/connections', { url: spoke.url })).status).toBe(201);
      expect((await hub.api('POST', '/federation/connections', { url: spoke.url })).status).toBe(201);
      const byId = await spoke.api<ConnectionRecord>('GET', `/federation/connections/${hub.identity.instanceId}`);
      expect(byId.body.instanceId).toBe(hub.identity.instanceId);
      const accepted = await spoke.api<ConnectionRecord>('POST', `/federation/connections/${hub.identity.instanceId}/accept`, { grants: TEST_GRANTS });
      expect(accepted.body.instanceId).toBe(hub.identity.instanceId);
      const impostorHere = await connectionOn(spoke, impostor.identity.instanceId);
      expect(impostorHere.state).toBe('pending');
      expect(impostorHere.name).not.toMatch(/^[a-z2-7]{32}$/);
    } finally {
      await impostor.stop();
    }
  });

  it('renames, regrants, suspends and resumes; refuses bad input with named codes', async () => {
    pair = await startPair();
    const { hub, spoke } = pair;
    const renamed = await hub.api<ConnectionRecord>('PATCH', '/federation/connections/spoke', { name: 'worker-1' });
    expect(renamed.body.name).toBe('worker-1');
    expect((await spawnRemote(hub, 'true', { peer: 'worker-1' })).status).toBe(202);
    expect((await hub.api<ErrorBody>('POST', '/agents', { peer: 'nobody', repo: 'web', taskId: 't', prompt: 'p' })).body.error.code).toBe('unknown_peer');

    const regranted = await spoke.api<ConnectionRecord>('PATCH', '/federation/connections/hub', { grants: { maxActiveAgents: 2 } });
    expect(regranted.body.grants).toEqual({ ...TEST_GRANTS, maxActiveAgents: 2 });
    const badGrants = await spoke.api<ErrorBody>('PATCH', '/federation/connections/hub', { grants: { repos: ['../x'] } });
    expect(badGrants).toMatchObject({ status: 400, body: { error: { code: 'invalid_grants' } } });

    expect((await spoke.api<ConnectionRecord>('PATCH', '/federation/connections/hub', { state: 'suspended' })).body.state).toBe('suspended');
    const refused = await spawnRemote(hub, 'true', { peer: 'worker-1' });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'connection_suspended' } } });
    expect((await spoke.api<ErrorBody>('PATCH', '/federation/connections/hub', { state: 'suspended' })).status).toBe(200);
    expect((await spoke.api<ConnectionRecord>('PATCH', '/federation/connections/hub', { state: 'active' })).body.state).toBe('active');
    expect((await spawnRemote(hub, 'true', { peer: 'worker-1', taskId: 'again' })).status).toBe(202);

    expect((await hub.api<ErrorBody>('GET', '/federation/connections/nope')).status).toBe(404);
    expect((await hub.api<ErrorBody>('POST', '/federation/connections', { url: hub.url })).body.error.code).toBe('self_connection');
    expect((await hub.api<ErrorBody>('POST', '/federation/connections', { url: 'ftp://x' })).body.error.code).toBe('invalid_url');
    expect((await spoke.api<ErrorBody>('POST', '/federation/invites', { grants: { commands: ['agent.fly'] } })).status).toBe(400);
    expect((await spoke.api<ErrorBody>('POST', '/federation/invites', { grants: {}, ttlS: 0 })).status).toBe(400);
    const { expiresAt } = await invite(spoke, {}, 60);
    expect(expiresAt).toBeGreaterThan(Date.now() + 55_000);
  });
});
