import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatAgent } from '../cli/agent-format.js';
import { TIMING_PHASES, type AgentTimings } from '../core/agent-model.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { poolReady } from '../test-support/pool.js';

/** Issue 24: every agent record says where its time went. */
describe('agent timings', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  async function setUp(repoExtra: Record<string, unknown>): Promise<{ t: TestInstance; repo: TempDir }> {
    const repo = await makeTempRepo({ gitignore: '.env\n' });
    writeFileSync(join(repo.path, '.env'), 'SECRET=1\n');
    const t = await startTestInstance({ killGraceMs: 300 });
    stops.push(() => repo.cleanup(), () => t.stop());
    const res = await t.api('POST', '/repos', { name: 'app', path: repo.path, copyFiles: ['.env'], ...repoExtra });
    expect(res.status).toBe(201);
    return { t, repo };
  }

  /** Phases are back to back from createdAt: they add up to the wall time, give or take the last writes. */
  function expectAddsUp(timings: AgentTimings, wallMs: number): void {
    const sum = TIMING_PHASES.reduce((total, phase) => total + (timings[phase] ?? 0), 0);
    const tolerance = Math.max(300, wallMs * 0.05);
    expect(Math.abs(wallMs - sum)).toBeLessThanOrEqual(tolerance);
  }

  it('a completed cold agent has every phase, none negative, adding up to its wall time; the API and `agents show` give them', { timeout: 60_000 }, async () => {
    const { t } = await setUp({ setup: ['sh', '-c', 'sleep 0.2; echo setup-done'] });
    const spawned = await spawnCommand(t, 'sleep 0.3; echo first; sleep 0.3; echo work > result.txt');
    const agent = await waitForState(t, spawned.id);
    expect(agent.state).toBe('completed');
    const timings = agent.timings as AgentTimings;
    expect(timings).not.toBeNull();
    for (const phase of ['queued', 'worktree', 'copy', 'sandbox', 'setup', 'launch', 'run', 'import', 'snapshot', 'remove'] as const) {
      expect(timings[phase], phase).toEqual(expect.any(Number));
      expect(timings[phase] as number, phase).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(timings[phase]), phase).toBe(true);
    }
    expect(timings.pool).toBeUndefined();
    expect(timings.setup).toBeGreaterThanOrEqual(200); // the setup's own sleep
    expect(timings.launch).toBeLessThan(timings.run as number + 1000);
    expect(timings.run).toBeGreaterThanOrEqual(250); // the agent's second sleep, after its first output
    expectAddsUp(timings, (agent.endedAt as number) - agent.createdAt);
    // The branch's summary runs while the worktree is removed (within `remove`): it still reaches the record.
    expect(agent.result).toMatchObject({ commitsAhead: 1, filesChanged: 1 });

    const shown = formatAgent(agent);
    expect(shown).toMatch(/timings\s+queued \d+ms, worktree \d+ms, copy \d+ms, sandbox \d+ms, setup \d+ms, launch \d+ms, run \d+ms, import \d+ms, snapshot \d+ms, remove \d+ms/);
  });

  it('a pooled agent has `pool` instead of `worktree`, and still adds up', { timeout: 90_000 }, async () => {
    const { t } = await setUp({ setup: ['true'], poolSize: 1 });
    await poolReady(t, 1);
    const agent = await waitForState(t, (await spawnCommand(t, 'echo pooled')).id);
    expect(agent.state).toBe('completed');
    expect(agent.pooled).toBe(true);
    const timings = agent.timings as AgentTimings;
    expect(timings.pool).toEqual(expect.any(Number));
    expect(timings.worktree).toBeUndefined();
    expect(timings.setup).toBe(0); // the pool ran it
    for (const phase of ['queued', 'pool', 'copy', 'sandbox', 'setup', 'launch', 'run', 'import', 'snapshot', 'remove'] as const) {
      expect(timings[phase] as number, phase).toBeGreaterThanOrEqual(0);
    }
    expectAddsUp(timings, (agent.endedAt as number) - agent.createdAt);
  });

  it('an agent whose setup failed keeps the phases it reached', { timeout: 60_000 }, async () => {
    const { t } = await setUp({ setup: ['sh', '-c', 'exit 3'] });
    const agent = await waitForState(t, (await spawnCommand(t, 'echo never')).id);
    expect(agent.state).toBe('failed');
    expect(agent.timings).toMatchObject({ queued: expect.any(Number), worktree: expect.any(Number), setup: expect.any(Number), remove: expect.any(Number) });
    expect(agent.timings?.launch).toBeUndefined();
    expect(agent.timings?.run).toBeUndefined();
  });
});
