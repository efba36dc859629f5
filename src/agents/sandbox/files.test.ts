import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../../test-support/agents.js';
import { makeTempRepo } from '../../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { attackOutcome, attackScript, shq } from '../../test-support/sandbox.js';
import { waitFor } from '../../test-support/wait.js';

/** Issue 6, must-hold 1 (files): a sandboxed agent cannot read or write another agent's worktree, nor write outside its own worktree and tmp. */
describe('sandbox: files', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  let other: { path: string; cleanup(): void };

  beforeAll(async () => {
    repo = await makeTempRepo();
    other = await makeTempRepo({ files: { 'secret.txt': 'other repository\n' } });
    t = await startTestInstance({ killGraceMs: 300 });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
    expect((await t.api('POST', '/repos', { name: 'other', path: other.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
    other.cleanup();
  });

  it('another agent\'s worktree, other repositories, the main checkout and HOME are out of reach; its own worktree and tmp work', async () => {
    const victim = await waitForState(t, (await spawnCommand(t, 'echo private > victim.txt && sleep 30', { taskId: 'victim' })).id, ['running']);
    await waitFor(() => existsSync(join(victim.worktreePath, 'victim.txt')), { timeoutMs: 15_000 });
    const victimFile = join(victim.worktreePath, 'victim.txt');
    const homeMarker = join(homedir(), `.mosaic-sandbox-test-${process.pid}`);
    const outside = join(repo.path, '..', 'outside.txt');
    const attempts: Record<string, string> = {
      readVictim: `cat ${shq(victimFile)}`,
      writeVictim: `echo owned > ${shq(victimFile)} && grep -q private ${shq(victimFile)}`,
      listVictim: `ls ${shq(victim.worktreePath)} | grep -q victim.txt`,
      readOtherRepo: `cat ${shq(join(other.path, 'secret.txt'))}`,
      readMainCheckout: `cat ${shq(join(repo.path, 'README.md'))}`,
      writeHome: `touch ${shq(homeMarker)} && test -e ${shq(join(homedir(), '.profile'))} -o -e ${shq(join(homedir(), '.bashrc'))}`,
      writeUsr: 'touch /usr/mosaic-sandbox-test',
      writeEtc: 'touch /etc/mosaic-sandbox-test',
    };
    const script = [
      attackScript(attempts),
      // Writes outside the worktree and tmp that seem to work must not reach the host.
      `mkdir -p ${shq(join(repo.path, '..'))} 2>/dev/null; echo escaped > ${shq(outside)} 2>/dev/null`,
      'echo mine > own.txt && test "$(cat own.txt)" = mine && echo OWN-OK',
      'echo scratch > /tmp/scratch && test "$(cat /tmp/scratch)" = scratch && echo TMP-OK',
      'echo home > "$HOME/.rc" && test "$(cat "$HOME/.rc")" = home && echo HOME-OK',
    ].join('\n');
    const agent = await waitForState(t, (await spawnCommand(t, script, { taskId: 'intruder' })).id);
    expect(agent.state).toBe('completed');
    const lines = (await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
    const outcome = attackOutcome(lines);
    expect(outcome.leaked).toEqual([]);
    expect(outcome.blocked.sort()).toEqual(Object.keys(attempts).sort());
    for (const ok of ['OWN-OK', 'TMP-OK', 'HOME-OK']) expect(lines).toContain(ok);

    expect(readFileSync(victimFile, 'utf8')).toBe('private\n');
    expect(existsSync(homeMarker)).toBe(false);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync('/usr/mosaic-sandbox-test')).toBe(false);
    expect(existsSync(join(homedir(), '.rc')) && readFileSync(join(homedir(), '.rc'), 'utf8') === 'home\n').toBe(false);
    await t.api('POST', `/agents/${victim.id}/kill`);
    await waitForState(t, victim.id);
  });

  it('a file outside the sandbox stays unchanged even when the agent knows its path', async () => {
    const target = join(repo.path, '..', 'keep.txt');
    writeFileSync(target, 'original\n');
    const agent = await waitForState(t, (await spawnCommand(t, `echo changed > ${shq(target)}; rm -f ${shq(target)}; true`, { taskId: 'eraser' })).id);
    expect(agent.state).toBe('completed');
    expect(readFileSync(target, 'utf8')).toBe('original\n');
  });
});
