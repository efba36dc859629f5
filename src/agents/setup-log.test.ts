import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';

/**
 * Issue 22, defect 5: an agent's log starts with its repository's setup as
 * the user wrote it — never bubblewrap's command line (which holds the
 * sandbox's every mount and only belongs in the server's debug log).
 */

let env: InstanceWithRepo;

beforeAll(async () => {
  env = await startInstanceWithRepo();
});

afterAll(async () => {
  await env?.stop();
});

async function logOf(id: string): Promise<string[]> {
  return (await env.t.api<{ lines: string[] }>('GET', `/agents/${id}/logs`)).body.lines;
}

describe('setup in the agent log', () => {
  it('shows a shell setup as its text and an argv setup quoted as a shell would, sandboxed or not', async () => {
    expect((await env.t.api('PATCH', '/repos/app', { setup: ['sh', '-c', 'echo prepared && true'] })).status).toBe(200);
    const shell = await waitForState(env.t, (await spawnCommand(env.t, 'echo ran')).id);
    expect(shell.state).toBe('completed');
    expect(shell.sandbox).toBe('bubblewrap'); // the case that used to show bwrap's argv
    const lines = await logOf(shell.id);
    expect(lines[0]).toBe('[mosaic] setup: echo prepared && true');
    expect(lines).toContain('prepared');
    expect(lines.join('\n')).not.toMatch(/bwrap|--ro-bind|--unshare/);

    expect((await env.t.api('PATCH', '/repos/app', { setup: ['echo', 'two words', "it's"] })).status).toBe(200);
    const argv = await waitForState(env.t, (await spawnCommand(env.t, 'true')).id);
    expect((await logOf(argv.id))[0]).toBe(`[mosaic] setup: echo 'two words' "it's"`);
  }, 60_000);
});
