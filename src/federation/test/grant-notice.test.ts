import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test-support/cli.js';
import { connectionOn, postRaw, startPair, TEST_GRANTS, type Pair } from '../../test-support/federation.js';
import { envelope, sign } from '../../test-support/federation-forge.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { waitFor } from '../../test-support/wait.js';

/**
 * Issue 9, point 10: when the spoke's admin changes what a peer may do there,
 * the peer learns it through a signed `grant.changed` notice, retried until
 * delivered; the notice only updates the receiver's informational copy, never
 * what the receiver grants.
 */

let pair: Pair | undefined;
let hubAgain: TestInstance | undefined;
const envOf = (t: TestInstance) => ({ MOSAIC_HOME: t.home, MOSAIC_URL: t.url });

afterAll(async () => {
  await Promise.allSettled([hubAgain?.stop(), pair?.spoke.stop()]);
  pair?.repo.cleanup();
});

describe('grant changes reach the peer', () => {
  it('shows the spoke\'s new grant on the hub (API and CLI), ignores older notices, never touches the hub\'s own grants, and retries while the hub is down', { timeout: 90_000 }, async () => {
    pair = await startPair();
    const { hub, spoke } = pair;
    const hubId = hub.identity.instanceId;
    const before = await connectionOn(hub, 'spoke');
    expect(before.peerGrants).toMatchObject({ maxActiveAgents: TEST_GRANTS.maxActiveAgents, repos: ['web'] });
    const changedAt = Date.now();

    // The spoke's admin changes the hub's grant with the CLI.
    const granted = await runCli(['peers', 'grant', hubId, '--repos', 'web,api', '--max-agents', '2'], envOf(spoke));
    expect(granted.code, granted.stderr).toBe(0);
    const learned = await waitFor(async () => {
      const conn = await connectionOn(hub, 'spoke');
      return conn.peerGrants?.maxActiveAgents === 2 ? conn : null;
    }, { timeoutMs: 15_000, what: 'the hub to learn the new grant' });
    expect(learned.peerGrants).toMatchObject({ repos: ['web', 'api'], maxActiveAgents: 2 });
    expect(learned.peerGrantsAt).toBeGreaterThanOrEqual(changedAt);
    expect(learned.grants).toEqual(before.grants); // what the spoke may do on the hub: untouched
    const told = await connectionOn(spoke, hubId);
    expect(told.grantsVersion).toBeGreaterThan(0);
    expect(told.grantsNotified).toBe(told.grantsVersion);

    const shown = await runCli(['peers', 'show', 'spoke'], envOf(hub));
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/we may \(there\)\s+cmds=\S+ repos=web,api runtimes=command max=2 .*\(as the peer said at \d{4}-\d\d-\d\d /);

    // A notice is the sender's word about its own grant, and only a newer one counts.
    const notice = async (version: number, grants: Record<string, unknown>) => {
      const env = envelope('EVENT', spoke.identity.instanceId, hubId, { event: 'grant.changed', version, grants });
      const { bytes, signature } = sign(env, spoke.identity.privateKey);
      return postRaw(hub, 'event', bytes, signature);
    };
    const everything = { commands: ['agent.spawn'], repos: ['*'], runtimes: ['claude', 'command'], maxActiveAgents: 1000, shell: true };
    const older = await notice(learned.peerGrantsVersion - 1, everything);
    expect(older.status).toBe(200);
    expect(older.body.body?.result).toEqual({ applied: false });
    expect((await connectionOn(hub, 'spoke')).peerGrants).toMatchObject({ maxActiveAgents: 2 });
    const newer = await notice(learned.peerGrantsVersion + 1, everything);
    expect(newer.body.body?.result).toEqual({ applied: true });
    const after = await connectionOn(hub, 'spoke');
    expect(after.peerGrants).toMatchObject({ repos: ['*'], maxActiveAgents: 1000 });
    expect(after.grants).toEqual(before.grants); // nothing a peer sends changes what it may do here
    expect((await notice(after.peerGrantsVersion + 1, { ...everything, maxActiveAgents: 'all' })).code).toBe('invalid_body');

    // The hub is down while the grant changes: the spoke keeps the notice and sends it once the hub is back.
    const port = new URL(hub.url).port;
    await hub.stop(true);
    const regrant = await runCli(['peers', 'grant', hubId, '--max-agents', '4'], envOf(spoke));
    expect(regrant.code, regrant.stderr).toBe(0);
    await waitFor(async () => {
      const conn = await connectionOn(spoke, hubId);
      return conn.grantsVersion > conn.grantsNotified;
    }, { what: 'the notice to be owed' });
    expect((await runCli(['peers', 'show', hubId], envOf(spoke))).stdout).toMatch(/peer told\s+not yet/);
    hubAgain = await startTestInstance({ name: 'hub', port: Number(port) }, hub.home);
    const relearned = await waitFor(async () => {
      const conn = await connectionOn(hubAgain!, 'spoke');
      return conn.peerGrants?.maxActiveAgents === 4 ? conn : null;
    }, { timeoutMs: 30_000, what: 'the restarted hub to learn the grant' });
    expect(relearned.peerGrants).toMatchObject({ repos: ['web', 'api'], runtimes: ['command'] });
    expect(relearned.grants).toEqual(before.grants);
  });
});

describe('grant changes reach a hub that pulls', () => {
  let pulling: Pair | undefined;
  afterAll(async () => {
    await pulling?.stop();
  });

  it('carries the current grant in every pull answer when the spoke cannot reach the hub', { timeout: 60_000 }, async () => {
    // The hub tells the spoke an address nothing listens on (a laptop behind NAT): only its pulls get through.
    pulling = await startPair({ pull: true, hubConfig: { url: 'http://127.0.0.1:9' } });
    const { hub, spoke } = pulling;
    const granted = await runCli(['peers', 'grant', hub.identity.instanceId, '--max-agents', '3'], envOf(spoke));
    expect(granted.code, granted.stderr).toBe(0);
    const learned = await waitFor(async () => {
      const conn = await connectionOn(hub, 'spoke');
      return conn.peerGrants?.maxActiveAgents === 3 ? conn : null;
    }, { timeoutMs: 30_000, what: 'the pulling hub to learn the grant' });
    expect(learned.peerGrantsVersion).toBe((await connectionOn(spoke, hub.identity.instanceId)).grantsVersion);
    // The push attempts failed: the pull is what told it.
    const pushes = (await spoke.api<{ messages: { op: string; status: string }[] }>('GET', '/federation/messages?direction=out')).body.messages
      .filter((m) => m.op === 'grant.changed');
    expect(pushes.every((m) => m.status !== 'delivered')).toBe(true);
  });
});
