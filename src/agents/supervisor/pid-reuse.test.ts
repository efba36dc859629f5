import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, waitFor } from '../../test-support/index.js';
import { canForcePids, pidFree, strangerAt, type Stranger } from '../../test-support/pid-reuse.js';
import { launchSupervisor, type LaunchResult } from './launch.js';
import { readPidRecord } from './pid-file.js';
import { isGroupAlive, isSupervisorAlive, readExitRecord, requestKill } from './probe.js';
import { BOOT_ID_PATH_VAR, groupMembers, isPidAlive, MARKER_VAR } from './proc.js';
import type { SupervisorSpec } from './spec.js';

/** Issue 23: a recorded pid or group is signalled only while it is provably the one recorded. */
const GRACE = 200;
const tmp = makeTempDir('mosaic-pid-reuse-');
const strangers: Stranger[] = [];
const launched: LaunchResult[] = [];
afterAll(() => {
  for (const s of strangers) s.stop();
  for (const l of launched) if (l.pgid !== null && isGroupAlive(l.pgid)) process.kill(-l.pgid, 'SIGKILL');
  tmp.cleanup();
});

let n = 0;
function makeSpec(script: string): SupervisorSpec {
  n += 1;
  return {
    agentId: `reuse${n}`,
    argv: ['sh', '-c', script],
    cwd: tmp.path,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    agentDir: join(tmp.path, `agent-${n}`),
    timeoutMs: null,
    killGraceMs: GRACE,
  };
}

async function launch(spec: SupervisorSpec): Promise<{ supervisorPid: number; pgid: number }> {
  const result = await launchSupervisor(spec);
  launched.push(result);
  if (result.pgid === null) throw new Error('the agent did not start');
  await waitFor(() => existsSync(join(spec.agentDir, 'output.log')) && readFileSync(join(spec.agentDir, 'output.log'), 'utf8').includes('ready'));
  return { supervisorPid: result.supervisorPid, pgid: result.pgid };
}

/** The agent and its supervisor end and are reaped (both numbers free), leaving their pid files behind. */
async function endAndReap(spec: SupervisorSpec, pgid: number, supervisorPid: number): Promise<void> {
  process.kill(-pgid, 'SIGKILL');
  await waitFor(() => pidFree(pgid) && pidFree(supervisorPid), { timeoutMs: 10_000, what: 'agent and supervisor to be reaped' });
  expect(readExitRecord(spec.agentDir)).not.toBeNull();
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!canForcePids())('pid reuse: recorded numbers handed to an unrelated process', () => {
  it('records pid, start time, boot id and marker in supervisor.pid and child.pid; the agent and its supervisor carry the marker', async () => {
    const spec = makeSpec('echo ready; sleep 30');
    const { supervisorPid, pgid } = await launch(spec);
    const supervisor = readPidRecord(join(spec.agentDir, 'supervisor.pid'));
    const child = readPidRecord(join(spec.agentDir, 'child.pid'));
    expect(supervisor).toMatchObject({ pid: supervisorPid, identity: { pid: supervisorPid, marker: spec.agentId } });
    expect(child).toMatchObject({ pid: pgid, identity: { pid: pgid, marker: spec.agentId } });
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(child?.identity?.boot).toBe(boot);
    expect(child?.identity?.start).toBe(readFileSync(`/proc/${pgid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19]);
    for (const pid of [supervisorPid, pgid]) {
      expect(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0')).toContain(`${MARKER_VAR}=${spec.agentId}`);
    }
    // The first line is still the bare pid (older readers, `cat`).
    expect(readFileSync(join(spec.agentDir, 'child.pid'), 'utf8').split('\n')[0]).toBe(String(pgid));
    process.kill(-pgid, 'SIGKILL');
  });

  it('a kill request signals neither the stranger now holding the agent\'s pgid nor the one holding the supervisor\'s pid', { timeout: 60_000 }, async () => {
    const spec = makeSpec('echo ready; sleep 300');
    const { supervisorPid, pgid } = await launch(spec);
    await endAndReap(spec, pgid, supervisorPid);
    const groupStranger = await strangerAt(pgid);
    const supervisorStranger = await strangerAt(supervisorPid);
    strangers.push(groupStranger, supervisorStranger);
    expect(groupMembers(pgid)).toEqual([pgid]); // a live group with the agent's old number

    expect(isSupervisorAlive(supervisorPid, spec.agentDir)).toBe(false);
    requestKill({ agentId: spec.agentId, agentDir: spec.agentDir, supervisorPid, pgid, graceMs: GRACE });
    await sleep(GRACE + 1000); // past the SIGKILL backstop
    expect(groupStranger.alive()).toBe(true);
    expect(supervisorStranger.alive()).toBe(true);
  });

  it('pid files of an older Mosaic (no identity): never signalled by number; the group\'s marked members still are', { timeout: 60_000 }, async () => {
    // A live agent whose supervisor is gone, recorded the old way: its members are found by their marker.
    const live = makeSpec('sleep 300 & echo ready; wait');
    const alive = await launch(live);
    process.kill(alive.supervisorPid, 'SIGKILL');
    await waitFor(() => !isPidAlive(alive.supervisorPid));
    writeFileSync(join(live.agentDir, 'child.pid'), `${alive.pgid}\n`);
    writeFileSync(join(live.agentDir, 'supervisor.pid'), `${alive.supervisorPid}\n`);
    requestKill({ agentId: live.agentId, agentDir: live.agentDir, supervisorPid: alive.supervisorPid, pgid: alive.pgid, graceMs: GRACE });
    await waitFor(() => !isGroupAlive(alive.pgid), { timeoutMs: GRACE + 3000, what: 'the marked members to end' });

    // A gone agent recorded the old way, its numbers taken by strangers: nothing is signalled.
    const gone = makeSpec('echo ready; sleep 300');
    const ended = await launch(gone);
    await endAndReap(gone, ended.pgid, ended.supervisorPid);
    writeFileSync(join(gone.agentDir, 'child.pid'), `${ended.pgid}\n`);
    writeFileSync(join(gone.agentDir, 'supervisor.pid'), `${ended.supervisorPid}\n`);
    const groupStranger = await strangerAt(ended.pgid);
    const supervisorStranger = await strangerAt(ended.supervisorPid);
    strangers.push(groupStranger, supervisorStranger);
    requestKill({ agentId: gone.agentId, agentDir: gone.agentDir, supervisorPid: ended.supervisorPid, pgid: ended.pgid, graceMs: GRACE });
    await sleep(GRACE + 1000);
    expect(groupStranger.alive()).toBe(true);
    expect(supervisorStranger.alive()).toBe(true);
  });

  it('after a reboot (boot id changed) a recorded supervisor and group are gone: nothing is signalled', { timeout: 30_000 }, async () => {
    const bootFile = join(tmp.path, 'boot_id');
    writeFileSync(bootFile, 'boot-a\n');
    const before = process.env[BOOT_ID_PATH_VAR];
    process.env[BOOT_ID_PATH_VAR] = bootFile;
    try {
      const spec = makeSpec('echo ready; sleep 300');
      const { supervisorPid, pgid } = await launch(spec);
      expect(readPidRecord(join(spec.agentDir, 'child.pid'))?.identity?.boot).toBe('boot-a');
      expect(isSupervisorAlive(supervisorPid, spec.agentDir)).toBe(true);
      writeFileSync(bootFile, 'boot-b\n');
      expect(isSupervisorAlive(supervisorPid, spec.agentDir)).toBe(false);
      requestKill({ agentId: spec.agentId, agentDir: spec.agentDir, supervisorPid, pgid, graceMs: GRACE });
      await sleep(GRACE + 1000);
      // The very same processes still run: they were treated as gone, not signalled.
      expect(isPidAlive(supervisorPid)).toBe(true);
      expect(isGroupAlive(pgid)).toBe(true);
      expect(readExitRecord(spec.agentDir)).toBeNull();
      process.kill(-pgid, 'SIGKILL');
    } finally {
      if (before === undefined) delete process.env[BOOT_ID_PATH_VAR];
      else process.env[BOOT_ID_PATH_VAR] = before;
    }
  });
});
