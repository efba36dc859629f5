import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForState } from '../../test-support/agents.js';
import { startPair, type Pair } from '../../test-support/federation.js';
import { git } from '../../test-support/git-fixtures.js';

/**
 * Issue 6, must-hold 4: with MOSAIC_SANDBOX=required and no bubblewrap to be
 * found (MOSAIC_BWRAP names a program that is not on PATH), a local agent ends
 * failed/sandbox_unavailable and a peer's spawn is refused with nothing created.
 */
describe('no sandbox available', () => {
  let pair: Pair;

  beforeAll(async () => {
    const noBwrap = { sandbox: 'required' as const, bwrapPath: 'bwrap-not-installed-here', killGraceMs: 300 };
    pair = await startPair({ spokeConfig: noBwrap });
  });
  afterAll(async () => {
    await pair.stop();
  });

  it('a local spawn under required ends failed with sandbox_unavailable, and nothing ran', async () => {
    const { spoke } = pair;
    const spawned = await spoke.api<{ id: string }>('POST', '/agents', {
      repo: 'web', taskId: 'local', prompt: 'p', runtime: { kind: 'command', argv: ['sh', '-c', 'echo ran > ran.txt'] },
    });
    expect(spawned.status).toBe(202);
    const agent = await waitForState(spoke, spawned.body.id);
    expect(agent.state).toBe('failed');
    expect(agent.error?.code).toBe('sandbox_unavailable');
    expect(agent.sandbox).toBeNull();
    expect(git(pair.repo.path, 'log', '--format=%s', `main..${agent.branch}`)).toBe('');
  });

  it("a peer's spawn is refused with sandbox_unavailable before anything is created", async () => {
    const { hub, spoke } = pair;
    const before = (await spoke.api<{ agents: unknown[] }>('GET', '/agents')).body.agents.length;
    const worktrees = (): number => (existsSync(`${pair.repo.path}_worktrees`) ? readdirSync(`${pair.repo.path}_worktrees`).length : 0);
    const worktreesBefore = worktrees();
    const res = await hub.api<{ error: { code: string } }>('POST', '/agents', {
      peer: 'spoke', repo: 'web', taskId: 'remote', prompt: 'p', runtime: { kind: 'command', argv: ['true'] },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(res.body)).toContain('sandbox_unavailable');
    expect((await spoke.api<{ agents: unknown[] }>('GET', '/agents')).body.agents.length).toBe(before);
    expect(worktrees()).toBe(worktreesBefore);
    expect((await hub.api<{ agents: unknown[] }>('GET', '/agents?scope=all')).body.agents).toEqual([]);
  });
});
