/**
 * Server side: read what a supervisor left behind and signal it. Used on the
 * normal exit path, to re-attach after a restart, and to kill.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readPidRecord } from './pid-file.js';
import {
  hasMarkedMembers,
  isGroupAlive as groupAlive,
  isPidAlive,
  isRecordedGroupAlive,
  isSameProcess,
  readCmdline,
  signalByArgv,
  signalMarkedMembers,
  signalRecorded,
  signalRecordedGroup,
} from './proc.js';
import { CHILD_PID_FILE, EXIT_FILE, SUPERVISOR_PID_FILE, type ExitRecord } from './spec.js';

export { readPidFile } from './pid-file.js';

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
    typeof r.endedAt === 'number' &&
    (r.firstOutputAt === undefined || r.firstOutputAt === null || typeof r.firstOutputAt === 'number')
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

/**
 * Whether `pid` is still our supervisor for `agentDir`. A pid alone is not
 * enough: pids are reused, and a stranger with the same pid must never be
 * treated as (or killed as) our supervisor. Its supervisor.pid records its
 * identity (proc.ts): that must still match. A file from an older Mosaic
 * (no identity) or none yet: on Linux its command line must name the agent
 * dir (enough to call it alive; it is never signalled by number).
 */
export function isSupervisorAlive(pid: number, agentDir: string): boolean {
  const record = readPidRecord(join(agentDir, SUPERVISOR_PID_FILE));
  if (record !== null && record.identity !== null) return record.pid === pid && isSameProcess(record.identity);
  if (!isPidAlive(pid)) return false;
  const argv = readCmdline(pid);
  if (argv === null) return process.platform !== 'linux';
  return namesAgentDir(argv, agentDir);
}

function namesAgentDir(argv: string[], agentDir: string): boolean {
  const dir = resolve(agentDir);
  return argv.some((arg) => arg === dir || arg === agentDir);
}

/** A supervisor's command line: node [loader] …/supervisor/main.(js|ts) <agentDir>. */
const isSupervisorArgv = (argv: string[]): boolean => argv.some((arg) => /[/\\]supervisor[/\\]main\.[jt]s$/.test(arg));

/**
 * Signals the agent's supervisor, only as far as it is proven ours: by the
 * identity in supervisor.pid (and only when it names `supervisorPid`, the
 * pid the caller recorded, if any); for a file without one (an older
 * Mosaic's supervisor), by its marker — a live supervisor whose command
 * line ends with this agent dir — never by the number. True when sent.
 */
export function signalSupervisor(agentDir: string, supervisorPid: number | null, sig: NodeJS.Signals): boolean {
  const record = readPidRecord(join(agentDir, SUPERVISOR_PID_FILE));
  if (record !== null && record.identity !== null) {
    return (supervisorPid === null || record.pid === supervisorPid) && signalRecorded(record.identity, sig);
  }
  return signalByArgv(resolve(agentDir), isSupervisorArgv, sig) > 0;
}

/**
 * A process group recorded in a pid file (child.pid, setup.pid, the pool's
 * setup pid files) whose processes carry `marker` (MOSAIC_AGENT_ID).
 * `recordedPgid`: the number the caller holds elsewhere (the agent record),
 * if any. With an identity in the file for that number, the group is
 * signalled whole while its leader is proven, else its marked members; a
 * file without one (an older Mosaic's) or no file: only the marked members
 * of the number, one by one.
 */
export function recordedGroup(pidFile: string, marker: string, recordedPgid: number | null = null): RecordedGroup | null {
  const record = readPidRecord(pidFile);
  if (record !== null && record.identity !== null && (recordedPgid === null || recordedPgid === record.pid)) {
    const leader = record.identity;
    return { pgid: leader.pid, signal: (sig) => signalRecordedGroup(leader, sig), alive: () => isRecordedGroupAlive(leader) };
  }
  const pgid = recordedPgid ?? record?.pid ?? null;
  if (pgid === null) return null;
  return {
    pgid,
    signal: (sig) => signalMarkedMembers(pgid, marker, sig),
    alive: () => hasMarkedMembers(pgid, marker),
  };
}

export interface RecordedGroup {
  pgid: number;
  /** How many targets got the signal (0: nothing of ours was there). */
  signal(sig: NodeJS.Signals): number;
  /** Something provably ours still runs in it. */
  alive(): boolean;
}

/** Something (not a zombie) still runs in the agent's process group (a probe: whoever it is). */
export function isGroupAlive(pgid: number): boolean {
  return groupAlive(pgid);
}

export interface KillRequest {
  agentId: string;
  agentDir: string;
  /** The supervisor's and the agent's pids as recorded on the agent (null when unknown). */
  supervisorPid: number | null;
  pgid: number | null;
  graceMs: number;
}

/**
 * Ask for an agent to be killed. The supervisor does the real work (SIGTERM
 * the group, SIGKILL after its grace, record `killed`). As a backstop for a
 * supervisor that is gone, the group is signalled directly: SIGTERM at once
 * when the supervisor cannot be reached, and SIGKILL once the grace (plus a
 * margin, so a live supervisor gets to do it first) has passed. Every signal
 * goes only where the recorded identities prove it is the agent's.
 */
export function requestKill(req: KillRequest): void {
  const reached = signalSupervisor(req.agentDir, req.supervisorPid, 'SIGTERM');
  const group = recordedGroup(join(req.agentDir, CHILD_PID_FILE), req.agentId, req.pgid);
  if (group === null) return;
  if (!reached) group.signal('SIGTERM');
  const timer = setTimeout(() => {
    if (group.alive()) group.signal('SIGKILL');
  }, Math.max(0, req.graceMs) + BACKSTOP_MARGIN_MS);
  timer.unref();
}
