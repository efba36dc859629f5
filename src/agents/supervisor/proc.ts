/**
 * Process and process-group probes, and the one place that signals a
 * process Mosaic recorded. Node built-ins only: the supervisor imports this
 * and must start without any package.
 *
 * Why /proc and not just `kill(-pgid, 0)`: an orphaned grandchild is
 * reparented to pid 1, and where pid 1 does not reap (containers, microVMs —
 * this very machine) it stays a zombie forever. `kill(-pgid, 0)` succeeds for
 * a group of zombies, so a dead group would look alive and every kill would
 * wait out its full grace. On Linux we therefore count only members that are
 * not zombies.
 *
 * Why identities: pid numbers are reused (pid_max is often 32768, and a busy
 * fleet wraps it in minutes; after a reboot every recorded number is stale).
 * A recorded pid is signalled only while the process behind it is provably
 * the one recorded: same boot, same start time (/proc/<pid>/stat field 22)
 * and the marker only Mosaic's processes carry (`MOSAIC_AGENT_ID=<id>` in
 * /proc/<pid>/environ). A recorded group is signalled whole only while its
 * leader is proven; otherwise its members are found by the marker and
 * signalled one by one. Nothing else in Mosaic calls `process.kill` with a
 * number it recorded.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const HAS_PROC = process.platform === 'linux';

/** The environment variable that marks a process as Mosaic's, for one agent (or pooled setup): its value is the id. */
export const MARKER_VAR = 'MOSAIC_AGENT_ID';
/** Test-only: read the boot id from this file instead of /proc/sys/kernel/random/boot_id (to simulate a reboot). */
export const BOOT_ID_PATH_VAR = 'MOSAIC_BOOT_ID_PATH';
const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';

/** Who a recorded pid was when it was recorded. */
export interface ProcIdentity {
  pid: number;
  /** /proc/<pid>/stat field 22: the start time in clock ticks after boot. */
  start: string;
  /** /proc/sys/kernel/random/boot_id when it was recorded. */
  boot: string;
  /** The value of MOSAIC_AGENT_ID in the process's environment. */
  marker: string;
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

interface Stat {
  state: string;
  pgrp: number;
  start: string;
}

/** State letter, process group and start time of a pid from /proc/<pid>/stat, or null when it is gone. */
function procStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain ') ', so split after the last ')'.
  // rest[0] is field 3 (state), rest[2] field 5 (pgrp), rest[19] field 22 (starttime).
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const pgrp = Number(rest[2]);
  const start = rest[19];
  if (state === undefined || !Number.isInteger(pgrp) || start === undefined || !/^[0-9]+$/.test(start)) return null;
  return { state, pgrp, start };
}

const isDeadState = (state: string): boolean => state === 'Z' || state === 'X' || state === 'x';

/** Never signal pid/pgid 0, 1 or negatives: kill(-1) reaches every process we own. */
const signalable = (id: number): boolean => Number.isInteger(id) && id > 1;

/** This machine's boot id (changes at every boot), or null where there is none. */
export function currentBootId(): string | null {
  const path = process.env[BOOT_ID_PATH_VAR] || BOOT_ID_PATH;
  try {
    const id = readFileSync(path, 'utf8').trim();
    return id.length > 0 ? id : null;
  } catch {
    return null;
  }
}

/**
 * The identity of a process Mosaic has just started (its own child, not yet
 * reaped, so the pid cannot have been reused), to record beside its pid.
 * Null where it cannot be taken (no /proc): such a pid is never signalled.
 */
export function identify(pid: number, marker: string): ProcIdentity | null {
  if (!HAS_PROC || !signalable(pid)) return null;
  const stat = procStat(pid);
  const boot = currentBootId();
  if (stat === null || boot === null) return null;
  return { pid, start: stat.start, boot, marker };
}

/** The process's environment holds `MOSAIC_AGENT_ID=<marker>` (false when it cannot be read: unproven). */
function carriesMarker(pid: number, marker: string): boolean {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return false;
  }
  return raw.split('\0').includes(`${MARKER_VAR}=${marker}`);
}

/**
 * The process recorded as `id` still runs under that pid: the same boot, not
 * a zombie, the same start time, and it carries its marker. After a reboot
 * (the boot id changed) nothing recorded before is ever the same process.
 */
export function isSameProcess(id: ProcIdentity): boolean {
  if (!HAS_PROC || !signalable(id.pid)) return false;
  if (currentBootId() !== id.boot) return false;
  const stat = procStat(id.pid);
  if (stat === null || isDeadState(stat.state) || stat.start !== id.start) return false;
  return carriesMarker(id.pid, id.marker);
}

/** Sends `sig` to one pid; false when it does not exist (or is not ours to signal). Private: numbers only reach it proven. */
function sendToPid(pid: number, sig: NodeJS.Signals): boolean {
  if (!signalable(pid)) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if (errCode(err) === 'ESRCH' || errCode(err) === 'EPERM') return false;
    throw err;
  }
}

/** Sends `sig` to a whole process group; false when the group is empty. Private: only for a proven leader. */
function sendToGroup(pgid: number, sig: NodeJS.Signals): boolean {
  if (!signalable(pgid)) return false;
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (err) {
    if (errCode(err) === 'ESRCH' || errCode(err) === 'EPERM') return false;
    throw err;
  }
}

/** Signals the recorded process only while it is provably the one recorded; false otherwise (nothing sent). */
export function signalRecorded(id: ProcIdentity, sig: NodeJS.Signals): boolean {
  return isSameProcess(id) && sendToPid(id.pid, sig);
}

/** A child process as node:child_process has it: unreaped while neither exit field is set. */
export interface OwnChild {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
}

/**
 * Signals the process group of a child this process started itself
 * (detached: its pid is its pgid). Until the child is reaped its pid cannot
 * be reused, and neither can its group: that is the proof. Once it has been
 * reaped nothing is sent here (use signalRecordedGroup with its identity).
 */
export function signalChildGroup(child: OwnChild, sig: NodeJS.Signals, opts: GroupSignalOptions = {}): boolean {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return false;
  if (!opts.spareLeader) return sendToGroup(pid, sig);
  const members = groupMembers(pid);
  if (members === null) return false;
  let sent = false;
  for (const member of members) if (member !== pid && sendToPid(member, sig)) sent = true;
  return sent;
}

export interface GroupSignalOptions {
  /** Signal every member but the leader (a sandbox leader takes its whole PID namespace with it). */
  spareLeader?: boolean;
}

/**
 * Signals the process group a recorded leader heads. While the leader is
 * proven (see isSameProcess) the group is Mosaic's and gets the signal whole
 * (`kill(-pgid)`). Once the leader is gone or no longer provable, the group
 * number may belong to anyone: then only members that carry the recorded
 * marker (and, after a reboot, none) are signalled, one by one. Returns how
 * many targets were signalled (a whole group counts as one).
 */
export function signalRecordedGroup(leader: ProcIdentity, sig: NodeJS.Signals, opts: GroupSignalOptions = {}): number {
  if (!signalable(leader.pid)) return 0;
  if (isSameProcess(leader)) {
    if (!opts.spareLeader) return sendToGroup(leader.pid, sig) ? 1 : 0;
    const members = groupMembers(leader.pid) ?? [];
    return members.filter((pid) => pid !== leader.pid && sendToPid(pid, sig)).length;
  }
  if (currentBootId() !== leader.boot) return 0;
  return signalMarkedMembers(leader.pid, leader.marker, sig);
}

/**
 * Signals, one by one, the live members of process group `pgid` whose
 * environment carries `MOSAIC_AGENT_ID=<marker>`: how a group whose leader
 * cannot be proven (gone, or recorded by an older Mosaic without an identity)
 * is reached without touching a stranger that now holds the number.
 */
export function signalMarkedMembers(pgid: number, marker: string, sig: NodeJS.Signals): number {
  if (!signalable(pgid) || marker.length === 0) return 0;
  let sent = 0;
  for (const pid of groupMembers(pgid) ?? []) {
    if (carriesMarker(pid, marker) && sendToPid(pid, sig)) sent += 1;
  }
  return sent;
}

/**
 * Signals, one by one, live processes whose argv ends with `lastArg` and
 * passes `also`: how a supervisor recorded by an older Mosaic (its pid file
 * has no identity) is reached by its marker, its command line naming its own
 * agent directory, rather than by a number that may have been reused.
 */
export function signalByArgv(lastArg: string, also: (argv: string[]) => boolean, sig: NodeJS.Signals): number {
  let sent = 0;
  for (const pid of processesWithArgv(lastArg, also)) if (sendToPid(pid, sig)) sent += 1;
  return sent;
}

/** A live member of group `pgid` carries `MOSAIC_AGENT_ID=<marker>`. */
export function hasMarkedMembers(pgid: number, marker: string): boolean {
  if (!signalable(pgid) || marker.length === 0) return false;
  return (groupMembers(pgid) ?? []).some((pid) => carriesMarker(pid, marker));
}

/** Live processes (Linux) whose argv ends with `lastArg` and passes `also`; [] where /proc is not available. */
export function processesWithArgv(lastArg: string, also: (argv: string[]) => boolean): number[] {
  if (!HAS_PROC) return [];
  const found: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const argv = readCmdline(pid);
    if (argv !== null && argv[argv.length - 1] === lastArg && also(argv)) {
      const stat = procStat(pid);
      if (stat !== null && !isDeadState(stat.state)) found.push(pid);
    }
  }
  return found;
}

function allPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** A live (not zombie) process with this pid exists (whoever it is: a probe, never a proof). */
export function isPidAlive(pid: number): boolean {
  if (!signalable(pid)) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else, so it is alive (just not ours).
    if (errCode(err) !== 'EPERM') return false;
  }
  if (!HAS_PROC) return true;
  const stat = procStat(pid);
  return stat !== null && !isDeadState(stat.state);
}

/** Live members of a process group (Linux), or null where /proc is not available. */
export function groupMembers(pgid: number): number[] | null {
  if (!HAS_PROC) return null;
  const members: number[] = [];
  for (const pid of allPids()) {
    const stat = procStat(pid);
    if (stat !== null && stat.pgrp === pgid && !isDeadState(stat.state)) members.push(pid);
  }
  return members;
}

/** Something that is not a zombie still runs in the process group (whoever it is: a probe, never a proof). */
export function isGroupAlive(pgid: number): boolean {
  if (!signalable(pgid)) return false;
  const members = groupMembers(pgid);
  if (members !== null) return members.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
}

/** Something that is not a zombie still runs in the recorded leader's group and is provably Mosaic's (leader proven, or a member carrying the marker). */
export function isRecordedGroupAlive(leader: ProcIdentity): boolean {
  if (isSameProcess(leader)) return true;
  if (currentBootId() !== leader.boot) return false;
  return (groupMembers(leader.pid) ?? []).some((pid) => carriesMarker(pid, leader.marker));
}

/** The argv of a running process (Linux), or null when unknown. */
export function readCmdline(pid: number): string[] | null {
  if (!HAS_PROC || !signalable(pid)) return null;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part) => part.length > 0);
  } catch {
    return null;
  }
}

/** Readers never see a half-written file: write a sibling temp file, then rename over. */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}
