import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../../test-support/instance.js';
import { waitFor } from '../../test-support/wait.js';

/** Host pids running `sleep <marker>N` (not zombies). */
function pidsWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.startsWith(marker) && /^sleep \d+$/.test(cmdline) && state !== 'Z') found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Children that escape the process group: setsid, nohup in the background, a double fork. */
const escapees = (n: number): string => [
  `setsid sleep ${n}1 >/dev/null 2>&1 < /dev/null &`,
  `nohup sleep ${n}2 >/dev/null 2>&1 &`,
  `sh -c 'sleep ${n}3 >/dev/null 2>&1 & exit 0'`,
].join('\n');

/** Issue 6, must-hold 2: nothing an agent started survives it, however it detached. */
describe('sandbox: processes', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { killGraceMs: 300 } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  it('after kill, setsid, nohup and double-forked children are gone', async () => {
    const n = 7_000_000 + (process.pid % 100_000);
    const spawned = await spawnCommand(t, `${escapees(n)}\nsleep 60`, { taskId: 'daemons' });
    await waitForState(t, spawned.id, ['running']);
    await waitFor(() => pidsWith(`sleep ${n}`).length === 3, { timeoutMs: 15_000, what: 'the three escaped children' });
    expect((await t.api('POST', `/agents/${spawned.id}/kill`)).status).toBe(202);
    const ended = await waitForState(t, spawned.id);
    expect(ended.state).toBe('killed');
    await waitFor(() => pidsWith(`sleep ${n}`).length === 0, { timeoutMs: 10_000, what: 'no child left' });
  });

  it('after a normal exit, they are gone too', async () => {
    const n = 8_000_000 + (process.pid % 100_000);
    const agent = await waitForState(t, (await spawnCommand(t, `${escapees(n)}\nsleep 1\necho parent-done`, { taskId: 'leaver' })).id);
    expect(agent.state).toBe('completed');
    await waitFor(() => pidsWith(`sleep ${n}`).length === 0, { timeoutMs: 10_000, what: 'no child left' });
  });
});
