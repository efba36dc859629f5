import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, waitFor } from '../../test-support/index.js';
import { launchSupervisor, type LaunchResult } from './launch.js';
import { isGroupAlive, isSupervisorAlive, readExitRecord, readPidFile, requestKill } from './probe.js';
import { groupMembers, isPidAlive } from './proc.js';
import type { SupervisorSpec } from './spec.js';

const GRACE = 300;
const tmp = makeTempDir('mosaic-sup-kill-');
const started: LaunchResult[] = [];
afterAll(() => {
  // Never leave a stray tree behind, whatever a failed assertion skipped.
  for (const l of started) if (l.pgid !== null && isGroupAlive(l.pgid)) process.kill(-l.pgid, 'SIGKILL');
  tmp.cleanup();
});

let n = 0;
function makeSpec(script: string, extra: Partial<SupervisorSpec> = {}): SupervisorSpec {
  n += 1;
  return {
    agentId: `k${n}`,
    argv: ['sh', '-c', script],
    cwd: tmp.path,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    agentDir: join(tmp.path, `agent-${n}`),
    timeoutMs: null,
    killGraceMs: GRACE,
    ...extra,
  };
}

async function launch(spec: SupervisorSpec): Promise<LaunchResult & { pgid: number }> {
  const launched = await launchSupervisor(spec);
  started.push(launched);
  expect(launched.pgid).not.toBeNull();
  return launched as LaunchResult & { pgid: number };
}

const logOf = (spec: SupervisorSpec) => {
  try {
    return readFileSync(join(spec.agentDir, 'output.log'), 'utf8');
  } catch {
    return '';
  }
};
const ready = (spec: SupervisorSpec, marker = 'ready') =>
  waitFor(() => logOf(spec).includes(marker), { what: `${marker} in output.log` });
const exitOf = (spec: SupervisorSpec, timeoutMs = 5000) =>
  waitFor(() => readExitRecord(spec.agentDir), { timeoutMs, what: 'exit.json' });
const grandchildOf = (spec: SupervisorSpec) => waitFor(() => readPidFile(join(tmp.path, `gc-${spec.agentId}.pid`)));

describe('kill and timeout', () => {
  it('requestKill ends the whole process tree, grandchildren included, and records killed', async () => {
    const spec = makeSpec('sleep 100 & echo $! > gc-$MOSAIC_ID.pid; echo ready; sleep 100; wait');
    spec.env.MOSAIC_ID = spec.agentId;
    const { supervisorPid, pgid } = await launch(spec);
    const gc = await grandchildOf(spec);
    await ready(spec);
    expect(isSupervisorAlive(supervisorPid, spec.agentDir)).toBe(true);
    expect(groupMembers(pgid)).toEqual(expect.arrayContaining([pgid, gc]));

    const t0 = Date.now();
    requestKill({ agentId: spec.agentId, agentDir: spec.agentDir, supervisorPid, pgid, graceMs: GRACE });
    const exit = await exitOf(spec, GRACE + 1000);
    expect(Date.now() - t0).toBeLessThan(GRACE + 1000);
    expect(exit).toMatchObject({ killed: true, timedOut: false, spawnError: null, signal: 'SIGTERM' });
    expect(isPidAlive(gc)).toBe(false);
    expect(isGroupAlive(pgid)).toBe(false);
    await waitFor(() => !isSupervisorAlive(supervisorPid, spec.agentDir), { what: 'supervisor to exit' });
  });

  it('SIGKILLs a tree that ignores SIGTERM once the grace has passed', async () => {
    const spec = makeSpec("trap '' TERM; echo ready; while :; do sleep 0.05; done");
    const { supervisorPid, pgid } = await launch(spec);
    await ready(spec);
    const t0 = Date.now();
    requestKill({ agentId: spec.agentId, agentDir: spec.agentDir, supervisorPid, pgid, graceMs: GRACE });
    const exit = await exitOf(spec, GRACE + 1500);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(GRACE - 20);
    expect(took).toBeLessThan(GRACE + 1000);
    expect(exit).toMatchObject({ killed: true, signal: 'SIGKILL', exitCode: null });
    expect(isGroupAlive(pgid)).toBe(false);
  });

  it('times out: SIGTERM to the group, timedOut recorded, not killed', async () => {
    const spec = makeSpec('echo ready; sleep 100', { timeoutMs: 400 });
    const { pgid } = await launch(spec);
    const exit = await exitOf(spec, 400 + GRACE + 2000);
    expect(exit).toMatchObject({ timedOut: true, killed: false, signal: 'SIGTERM', exitCode: null });
    expect(exit.endedAt - exit.startedAt).toBeGreaterThanOrEqual(390);
    expect(exit.endedAt - exit.startedAt).toBeLessThan(400 + GRACE + 1000);
    expect(isGroupAlive(pgid)).toBe(false);
  });

  it('cleans up what the agent left running in its group when it exits on its own', async () => {
    const spec = makeSpec('sleep 100 & echo $! > gc-$MOSAIC_ID.pid; echo done');
    spec.env.MOSAIC_ID = spec.agentId;
    const { pgid } = await launch(spec);
    const gc = await grandchildOf(spec);
    const exit = await exitOf(spec);
    expect(exit).toMatchObject({ exitCode: 0, killed: false, timedOut: false, signal: null });
    expect(isPidAlive(gc)).toBe(false);
    expect(isGroupAlive(pgid)).toBe(false);
  });

  it('ignores SIGHUP and SIGINT: the agent keeps running', async () => {
    const spec = makeSpec('echo ready; sleep 0.8; echo survived');
    const { supervisorPid } = await launch(spec);
    await ready(spec);
    process.kill(supervisorPid, 'SIGHUP');
    process.kill(supervisorPid, 'SIGINT');
    const exit = await exitOf(spec);
    expect(exit).toMatchObject({ exitCode: 0, killed: false });
    expect(logOf(spec)).toBe('ready\nsurvived\n');
  });

  it('requestKill still ends the group when the supervisor is gone (backstop)', async () => {
    const spec = makeSpec('echo ready; sleep 100');
    const { supervisorPid, pgid } = await launch(spec);
    await ready(spec);
    process.kill(supervisorPid, 'SIGKILL');
    await waitFor(() => !isSupervisorAlive(supervisorPid, spec.agentDir), { what: 'supervisor death' });
    expect(isGroupAlive(pgid)).toBe(true); // the agent outlives its supervisor…
    requestKill({ agentId: spec.agentId, agentDir: spec.agentDir, supervisorPid, pgid, graceMs: GRACE });
    await waitFor(() => !isGroupAlive(pgid), { timeoutMs: GRACE + 1500, what: 'group death' });
    expect(readExitRecord(spec.agentDir)).toBeNull(); // …and nothing recorded its end: orchestrator_lost
  });

  it('requestKill with nothing to signal is a no-op, never signalling pid 0 or our own group', () => {
    const agentDir = join(tmp.path, 'never-launched');
    expect(() => requestKill({ agentId: 'none', agentDir, supervisorPid: null, pgid: null, graceMs: GRACE })).not.toThrow();
    expect(() => requestKill({ agentId: 'none', agentDir, supervisorPid: 0, pgid: 0, graceMs: GRACE })).not.toThrow();
    expect(() => requestKill({ agentId: 'none', agentDir, supervisorPid: 999_999_999, pgid: 999_999_999, graceMs: 0 })).not.toThrow();
  });
});
