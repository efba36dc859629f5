import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { PROMPT_ECHO_CHARS, TRUNCATED_MARKER } from '../../core/text-bounds.js';
import { sqliteHandle } from '../../store/index.js';
import { waitForState } from '../../test-support/agents.js';
import { postRaw, startPair, type Pair } from '../../test-support/federation.js';
import { envelope, sign, spawnArgs } from '../../test-support/federation-forge.js';

/** 127 KiB of control characters: one byte each in UTF-8, six (`\u0001`) in JSON. */
const PROMPT = Array.from({ length: 127 * 1024 }, (_, i) => String.fromCharCode(1 + (i % 31))).join('');

/** The store's files after a checkpoint: the database plus whatever its WAL still holds. */
function storeBytes(pair: Pair): number {
  sqliteHandle(pair.spoke.store).pragma('wal_checkpoint(TRUNCATE)');
  const db = join(pair.spoke.home, 'mosaic.db');
  const wal = (() => {
    try {
      return statSync(`${db}-wal`).size;
    } catch {
      return 0;
    }
  })();
  return statSync(db).size + wal;
}

/**
 * Issue 7, must-hold 2: storage a peer can grow is bounded. A peer repeats one
 * agent.spawn (one idempotencyKey, a 127 KiB prompt of control characters) in
 * 300 messages: one agent runs, every message is answered with it, and the
 * spoke's store grows by less than 10 MB (it grew by about 17 MB when every
 * answer was kept whole in the replay cache and every event repeated the
 * whole prompt).
 */
describe('store growth from repeated spawns', () => {
  let pair: Pair | undefined;
  afterAll(async () => {
    await pair?.stop();
  });

  it('300 repeats of a spawn with a 127 KiB prompt grow the store by less than 10 MB', { timeout: 180_000 }, async () => {
    pair = await startPair();
    const p = pair;
    const hubId = p.hub.identity.instanceId;
    const before = storeBytes(p);

    const args = spawnArgs({ taskId: 'repeat', prompt: PROMPT, idempotencyKey: 'one-key', runtime: { kind: 'command', argv: ['true'] } });
    const ids = new Set<string>();
    for (let i = 0; i < 300; i += 1) {
      const env = envelope('COMMAND', hubId, p.spoke.identity.instanceId, { command: 'agent.spawn', args });
      const { bytes, signature } = sign(env, p.hub.identity.privateKey);
      const answer = await postRaw(p.spoke, 'command', bytes, signature);
      expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200);
      const { agent } = answer.body.body?.result as { agent: PublicAgent };
      ids.add(agent.id);
      // The answer echoes the prompt cut, with the marker.
      expect(agent.prompt.length).toBe(PROMPT_ECHO_CHARS + TRUNCATED_MARKER.length);
      expect(agent.prompt.endsWith(TRUNCATED_MARKER)).toBe(true);
    }
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const ran = await waitForState(p.spoke, id as string, ['completed', 'failed', 'killed'], 30_000);
    expect(ran.state).toBe('completed');
    // The instance that ran it keeps the whole prompt.
    expect(ran.prompt).toBe(PROMPT);

    const grownMB = (storeBytes(p) - before) / 1e6;
    expect(grownMB).toBeLessThan(10);
  });

  it('keeps no answer over 16 KiB in the replay cache: a repeat of such a spawn runs again and answers the same agent', { timeout: 60_000 }, async () => {
    const p = pair as Pair;
    const hubId = p.hub.identity.instanceId;
    // 8 K control characters of argv come back whole (the argv bound) and escape to 48 KB: over 16 KiB.
    const argv = ['sh', '-c', `exit 0 # ${PROMPT.slice(0, 8 * 1024 - 20)}`];
    const env = envelope('COMMAND', hubId, p.spoke.identity.instanceId, {
      command: 'agent.spawn', args: spawnArgs({ taskId: 'large-answer', prompt: PROMPT, runtime: { kind: 'command', argv } }),
    });
    const { bytes, signature } = sign(env, p.hub.identity.privateKey);
    const first = await postRaw(p.spoke, 'command', bytes, signature);
    expect(first.status).toBe(200);
    expect(await p.spoke.federation.store.seen.get(hubId, env.id)).toBeUndefined();
    const again = await postRaw(p.spoke, 'command', bytes, signature);
    expect(again.status).toBe(200);
    const agentOf = (a: typeof first) => (a.body.body?.result as { agent: PublicAgent }).agent.id;
    expect(agentOf(again)).toBe(agentOf(first));
    expect((await p.spoke.store.agents.list({ origin: hubId })).filter((a) => a.taskId === 'large-answer')).toHaveLength(1);
  });
});
