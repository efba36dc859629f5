import { afterAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { spawnRemote, startPair, type Pair } from '../test-support/federation.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';
import { runCli } from '../test-support/cli.js';

/** Issue 9, point 7: `list --all` marks the agents of a peer that went away, and says so on stderr. */

let pair: Pair | undefined;
let spokeAgain: TestInstance | undefined;

afterAll(async () => {
  await Promise.allSettled([spokeAgain?.stop(), pair?.hub.stop()]);
  pair?.repo.cleanup();
});

describe('stale remote views', () => {
  it('marks a stopped peer\'s unfinished agents stale, names the peer on stderr, and clears both once it is back', { timeout: 90_000 }, async () => {
    // Staleness after 2 s: the hub probes a silent peer that runs its agents every second.
    pair = await startPair({ hubConfig: { fedStaleS: 2 } });
    const { hub, spoke } = pair;
    const listAll = () => runCli(['agents', 'list', '--all'], { MOSAIC_HOME: hub.home, MOSAIC_URL: hub.url });
    const remote = async () => (await hub.api<{ agents: PublicAgent[] }>('GET', '/agents?scope=all')).body.agents;

    const done = (await spawnRemote(hub, 'true', { taskId: 'quick' })).body;
    const long = (await spawnRemote(hub, 'sleep 120', { taskId: 'long' })).body;
    await waitFor(async () => {
      const agents = await remote();
      return agents.find((a) => a.id === done.id)?.state === 'completed' && agents.find((a) => a.id === long.id)?.state === 'running';
    }, { timeoutMs: 30_000, what: 'one remote agent completed and one running' });

    // Up and answering: nothing is marked, nothing is noted.
    await new Promise((r) => setTimeout(r, 2500)); // past the staleness window: the probes keep it fresh
    const fresh = await listAll();
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(new RegExp(`${long.id}\\s+running\\s`));
    expect(fresh.stdout).not.toContain('stale');
    expect(fresh.stderr).toBe('');
    expect((await runCli(['peers', 'show', 'spoke'], { MOSAIC_HOME: hub.home, MOSAIC_URL: hub.url })).stdout).toMatch(/contact\s+last heard from \d+(ms|s) ago\n/);
    expect((await runCli(['peers', 'list'], { MOSAIC_HOME: hub.home, MOSAIC_URL: hub.url })).stdout).toMatch(/^spoke\s.*\s\d+(ms|s) ago\s/m);
    const view = (await remote()).find((a) => a.id === long.id)!;
    expect(view).toMatchObject({ stale: false, peerContact: { unreachableSince: null } });
    expect(view.peerContact?.lastContactAt).toBeGreaterThan(Date.now() - 10_000);

    // The spoke stops (its agent keeps running under its supervisor): the hub's probe fails.
    const port = new URL(spoke.url).port;
    await spoke.stop(true);
    const stale = await waitFor(async () => (await remote()).find((a) => a.id === long.id && a.stale), { timeoutMs: 20_000, what: 'the running agent marked stale' });
    expect(stale.peerContact?.unreachableSince).toEqual(expect.any(Number));
    expect((await remote()).find((a) => a.id === done.id)?.stale).toBe(false); // a finished agent's state cannot change

    const marked = await listAll();
    expect(marked.code, marked.stderr).toBe(0);
    expect(marked.stdout).toMatch(new RegExp(`${long.id}\\s+running \\(stale \\d+(ms|s|m)\\)`));
    expect(marked.stdout).toMatch(new RegExp(`${done.id}\\s+completed\\s`));
    expect(marked.stderr).toMatch(/^note: peer spoke unreachable since \d\d:\d\d:\d\d \(.+\), last heard from .+ ago; its agents may be out of date\n$/);
    const peerTable = await runCli(['peers', 'list'], { MOSAIC_HOME: hub.home, MOSAIC_URL: hub.url });
    expect(peerTable.stdout).toMatch(/CONTACT/);
    expect(peerTable.stdout).toMatch(/^spoke\s.*\sunreachable \d+(ms|s|m)/m);
    const peer = await runCli(['peers', 'show', 'spoke'], { MOSAIC_HOME: hub.home, MOSAIC_URL: hub.url });
    expect(peer.stdout).toMatch(/contact\s+unreachable since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(.+\); last heard from .+ ago/);
    const json = await runCli(['agents', 'list', '--all', '--json'], { MOSAIC_HOME: hub.home, MOSAIC_URL: hub.url });
    expect((JSON.parse(json.stdout) as { agents: PublicAgent[] }).agents.find((a) => a.id === long.id)?.stale).toBe(true);
    expect(json.stderr).toContain('note: peer spoke unreachable');

    // Back on the same address: the next probe answers and the marks go.
    spokeAgain = await startTestInstance({ name: 'spoke', port: Number(port) }, spoke.home);
    await waitFor(async () => (await remote()).find((a) => a.id === long.id)?.stale === false, { timeoutMs: 20_000, what: 'the mark to clear' });
    const back = await listAll();
    expect(back.stdout).not.toContain('stale');
    expect(back.stderr).toBe('');
  });
});
