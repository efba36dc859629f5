import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { postRaw, spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import { envelope, sign } from '../../test-support/federation-forge.js';
import { waitFor } from '../../test-support/wait.js';

/** DESIGN §4 pull mode: a hub the spoke cannot reach reads the spoke's outbox with long-polling QUERY events. */
describe('pulling events', () => {
  let pair: Pair;
  beforeAll(async () => {
    // The hub announces an address where nothing listens: every push from the spoke fails.
    pair = await startPair({ hubConfig: { url: 'http://127.0.0.1:9', fedTimeoutMs: 2000 }, pull: true });
  });
  afterAll(async () => {
    await pair.stop();
  });

  it('follows a remote agent through pulls alone, each event once and in order', async () => {
    const { hub, spoke } = pair;
    expect(pair.hubConn.pull).toBe(true);
    const agent = (await spawnRemote(hub, 'while [ ! -f go-pull ]; do sleep 0.05; done')).body;
    const go = join(agent.worktreePath, 'go-pull'); // its own worktree: all a sandboxed agent sees
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${agent.id}`)).body.state === 'running', { timeoutMs: 5000 });
    writeFileSync(go, '');
    await waitFor(async () => (await hub.api<PublicAgent>('GET', `/agents/${agent.id}`)).body.state === 'completed', { timeoutMs: 5000 });
    const sent = (await spoke.store.events.after(0, 1000)).filter((e) => e.agentId === agent.id).map((e) => e.data.state);
    const got = (await hub.store.events.after(0, 1000)).filter((e) => e.agentId === agent.id).map((e) => e.data.state);
    expect(got).toEqual(sent);
    // No push got through: the events came by pull.
    const pushes = (await spoke.api<{ messages: { status: string }[] }>('GET', '/federation/messages?direction=out&kind=EVENT')).body.messages;
    expect(pushes.every((m) => m.status !== 'delivered')).toBe(true);
    const pulls = (await hub.api<{ messages: { op: string; status: string }[] }>('GET', '/federation/messages?direction=out&kind=QUERY')).body.messages;
    expect(pulls.some((m) => m.op === 'events' && m.status === 'delivered')).toBe(true);
    // Pulled rows are acknowledged on the spoke once the hub pulls past them, so pushes stop trying.
    await waitFor(async () => (await spoke.federation.store.outbox.pending(hub.identity.instanceId)).length === 0, { timeoutMs: 5000 });
  });

  it('answers QUERY events with the outbox after a seq, and waits up to waitMs when there is nothing new', async () => {
    const { hub, spoke } = pair;
    const query = (args: Record<string, unknown>) => {
      const { bytes, signature } = sign(envelope('QUERY', hub.identity.instanceId, spoke.identity.instanceId, { query: 'events', args }), hub.identity.privateKey);
      return postRaw(spoke, 'query', bytes, signature);
    };
    const all = (await query({ after: 0 })).body.body?.result as { events: { seq: number; event: string }[]; next: number };
    expect(all.events.length).toBeGreaterThanOrEqual(4);
    expect(all.events.map((e) => e.seq)).toEqual([...all.events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(all.next).toBe(all.events.at(-1)!.seq);
    const started = Date.now();
    const none = (await query({ after: all.next, waitMs: 300 })).body.body?.result as { events: unknown[]; next: number };
    expect(none).toEqual({ events: [], next: all.next });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect((await query({ waitMs: 999_999 })).code).toBe('invalid_args');
  });
});
