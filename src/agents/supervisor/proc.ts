/**
 * Process and process-group probes shared by the supervisor and the server.
 * Node built-ins only: the supervisor imports this and must start without
 * any package.
 *
 * Why /proc and not just `kill(-pgid, 0)`: an orphaned grandchild is
 * reparented to pid 1, and where pid 1 does not reap (containers, microVMs —
 * this very machine) it stays a zombie forever. `kill(-pgid, 0)` succeeds for
 * a group of zombies, so a dead group would look alive and every kill would
 * wait out its full grace. On Linux we therefore count only members that are
 * not zombies.
 */
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const HAS_PROC = process.platform === 'linux';

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** State letter and process group of a pid from /proc/<pid>/stat, or null when it is gone. */
function procStat(pid: number): { state: string; pgrp: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain ') ', so split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const pgrp = Number(rest[2]);
  if (state === undefined || !Number.isInteger(pgrp)) return null;
  return { state, pgrp };
}

const isDeadState = (state: string): boolean => state === 'Z' || state === 'X' || state === 'x';

/** Never signal pid/pgid 0, 1 or negatives: kill(-1) reaches every process we own. */
const signalable = (id: number): boolean => Number.isInteger(id) && id > 1;

/** Sends `sig` to one process; false when it does not exist (or is not ours). */
export function signalPid(pid: number, sig: NodeJS.Signals | 0): boolean {
  if (!signalable(pid)) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    if (errCode(err) === 'ESRCH' || errCode(err) === 'EPERM') return false;
    throw err;
  }
}

/** Sends `sig` to a whole process group; false when the group is empty. */
export function signalGroup(pgid: number, sig: NodeJS.Signals | 0): boolean {
  if (!signalable(pgid)) return false;
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (err) {
    if (errCode(err) === 'ESRCH' || errCode(err) === 'EPERM') return false;
    throw err;
  }
}

/** A live (not zombie) process with this pid exists. */
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
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const members: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = procStat(pid);
    if (stat !== null && stat.pgrp === pgid && !isDeadState(stat.state)) members.push(pid);
  }
  return members;
}

/** Something that is not a zombie still runs in the process group. */
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
