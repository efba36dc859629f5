/**
 * Server side: read what a supervisor left behind and signal it. Used on the
 * normal exit path, to re-attach after a restart, and to kill.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isGroupAlive as groupAlive, isPidAlive, readCmdline, signalGroup, signalPid } from './proc.js';
import { EXIT_FILE, type ExitRecord } from './spec.js';

/** Margin after the supervisor's own SIGKILL before the server's backstop fires. */
const BACKSTOP_MARGIN_MS = 500;

function isExitRecord(value: unknown): value is ExitRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  const numOrNull = (v: unknown): boolean => v === null || typeof v === 'number';
  const spawnErrorOk =
    r.spawnError === null ||
    (typeof r.spawnError === 'object' &&
      typeof (r.spawnError as Record<string, unknown>).code === 'string' &&
      typeof (r.spawnError as Record<string, unknown>).message === 'string');
  return (
    numOrNull(r.exitCode) &&
    (r.signal === null || typeof r.signal === 'string') &&
    typeof r.timedOut === 'boolean' &&
    typeof r.killed === 'boolean' &&
    spawnErrorOk &&
    typeof r.startedAt === 'number' &&
    typeof r.endedAt === 'number'
  );
}

/** The supervisor's exit record, or null when absent, partial or corrupt. */
export function readExitRecord(agentDir: string): ExitRecord | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(agentDir, EXIT_FILE), 'utf8'));
    return isExitRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** A positive integer pid from a pid file, or null. */
export function readPidFile(path: string): number | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (!/^[0-9]{1,10}$/.test(text)) return null;
    const pid = Number(text);
    return pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Whether `pid` is still our supervisor for `agentDir`. A pid alone is not
 * enough after a restart: pids are reused, and a stranger with the same pid
 * must never be treated as (or killed as) our supervisor. On Linux its
 * command line must name the agent dir; elsewhere liveness is all we have.
 */
export function isSupervisorAlive(pid: number, agentDir: string): boolean {
  if (!isPidAlive(pid)) return false;
  const argv = readCmdline(pid);
  if (argv === null) return process.platform !== 'linux';
  const dir = resolve(agentDir);
  return argv.some((arg) => arg === dir || arg === agentDir);
}

/** Something (not a zombie) still runs in the agent's process group. */
export function isGroupAlive(pgid: number): boolean {
  return groupAlive(pgid);
}

/**
 * Ask for an agent to be killed. The supervisor does the real work (SIGTERM
 * the group, SIGKILL after its grace, record `killed`). As a backstop for a
 * supervisor that is gone, the group is signalled directly: SIGTERM at once
 * when the supervisor cannot be reached, and SIGKILL once the grace (plus a
 * margin, so a live supervisor gets to do it first) has passed. Pass
 * `agentDir` to make sure a reused supervisor pid is never signalled.
 */
export function requestKill(supervisorPid: number | null, pgid: number | null, graceMs: number, agentDir?: string): void {
  const ours = supervisorPid !== null && (agentDir === undefined || isSupervisorAlive(supervisorPid, agentDir));
  const reached = ours && signalPid(supervisorPid, 'SIGTERM');
  if (pgid === null) return;
  if (!reached) signalGroup(pgid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  }, Math.max(0, graceMs) + BACKSTOP_MARGIN_MS);
  timer.unref();
}
