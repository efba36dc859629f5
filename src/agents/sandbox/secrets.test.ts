import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../index.js';
import { spawnCommand, waitForState } from '../../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../../test-support/instance.js';
import { attackOutcome, attackScript, shq } from '../../test-support/sandbox.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../../test-support/fake-claude.mjs', import.meta.url));

/** Issue 6, must-hold 1 (secrets and processes): a sandboxed agent cannot reach the instance's secrets or other processes. */
describe('sandbox: secrets and processes', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo({ config: { claudeBin: FAKE_CLAUDE, killGraceMs: 300 } });
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  const logLines = async (id: string): Promise<string[]> => (await t.api<{ lines: string[] }>('GET', `/agents/${id}/logs`)).body.lines;

  it('cannot read the admin token, the identity key, the store or the server environment, nor see other pids', async () => {
    const other = await waitForState(t, (await spawnCommand(t, 'sleep 30', { taskId: 'bystander' })).id, ['running']);
    const identityFiles = readdirSync(join(t.home, 'identity')).map((f) => join(t.home, 'identity', f));
    expect(identityFiles.length).toBeGreaterThan(0);
    const attempts: Record<string, string> = {
      token: `cat ${shq(join(t.home, 'admin-token'))}`,
      key: identityFiles.map((f) => `cat ${shq(f)}`).join(' || '),
      store: `head -c 16 ${shq(join(t.home, 'mosaic.db'))}`,
      agentLogs: `ls ${shq(join(t.home, 'agents', other.id))}`,
      serverEnviron: `cat /proc/${process.pid}/environ`,
      serverPid: `kill -0 ${process.pid}`,
      serverProc: `test -e /proc/${process.pid}/cmdline`,
      otherAgentPid: `kill -0 ${other.pgid ?? 0} || test -e /proc/${other.pgid ?? 0}/cmdline`,
      otherSupervisorPid: `kill -0 ${other.pid ?? 0}`,
      init: 'kill -0 1 && test "$(cat /proc/1/comm)" != bwrap',
    };
    const agent = await waitForState(t, (await spawnCommand(t, `${attackScript(attempts)}\necho pids: $(ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' ')`, { taskId: 'thief' })).id);
    expect(agent.state).toBe('completed');
    expect(agent.sandbox).toBe('bubblewrap');
    const lines = await logLines(agent.id);
    const outcome = attackOutcome(lines);
    expect(outcome.leaked).toEqual([]);
    expect(outcome.blocked.sort()).toEqual(Object.keys(attempts).sort());
    // Its own PID namespace: only a handful of its own processes, all with small pids.
    const pids = (lines.find((l) => l.startsWith('pids:')) ?? '').slice(5).trim().split(' ').map(Number);
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.every((pid) => pid < 100)).toBe(true);
    await t.api('POST', `/agents/${other.id}/kill`);
    await waitForState(t, other.id);
  });

  it('a claude agent whose prompt runs a shell command cannot read the token either', async () => {
    const tokenPath = join(t.home, 'admin-token');
    const res = await t.api<PublicAgent>('POST', '/agents', {
      repo: 'app', taskId: 'injected', prompt: `[fake:shell] cat ${shq(tokenPath)} && echo READ-OK`,
    });
    expect(res.status).toBe(202);
    const agent = await waitForState(t, res.body.id);
    expect(agent.sandbox).toBe('bubblewrap');
    // The shell ran (the fake CLI allowed Bash for a local worker) and failed to read the file.
    expect(agent.result?.summary).toMatch(/command failed: .*No such file/);
    expect(agent.result?.summary).not.toContain(t.adminToken);
    expect((await logLines(agent.id)).join('\n')).not.toContain(t.adminToken);
  });
});
