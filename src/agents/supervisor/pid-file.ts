/**
 * Pid files (supervisor.pid, child.pid, setup.pid, the pool's setup pid
 * files): the pid on the first line, so `cat` and older readers still find
 * it, then the identity recorded when the process was started (JSON:
 * start time, boot id, marker). A file without the second line was written
 * by an older Mosaic: its pid is never signalled by number.
 */
import { readFileSync } from 'node:fs';
import { identify, writeFileAtomic, type ProcIdentity } from './proc.js';

export interface PidRecord {
  pid: number;
  /** Null when the file predates identities (or /proc was unavailable): the pid is unprovable. */
  identity: ProcIdentity | null;
}

const PID_LINE = /^[0-9]{1,10}$/;
const TICKS = /^[0-9]{1,20}$/;

/** Records `pid` with its identity, taken now (call it while the process is your own unreaped child). */
export function writePidFile(path: string, pid: number, marker: string): ProcIdentity | null {
  const identity = identify(pid, marker);
  const second = identity === null ? '' : `${JSON.stringify({ start: identity.start, boot: identity.boot, marker: identity.marker })}\n`;
  writeFileAtomic(path, `${pid}\n${second}`);
  return identity;
}

/** The pid and its recorded identity, or null when the file is absent or its first line is not a pid > 1. */
export function readPidRecord(path: string): PidRecord | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const [first, second] = text.split('\n');
  const line = (first ?? '').trim();
  if (!PID_LINE.test(line)) return null;
  const pid = Number(line);
  if (pid <= 1) return null;
  return { pid, identity: parseIdentity(pid, second) };
}

function parseIdentity(pid: number, line: string | undefined): ProcIdentity | null {
  if (line === undefined || line.trim() === '') return null;
  try {
    const raw = JSON.parse(line) as Record<string, unknown> | null;
    if (raw === null || typeof raw !== 'object') return null;
    const { start, boot, marker } = raw;
    if (typeof start !== 'string' || !TICKS.test(start)) return null;
    if (typeof boot !== 'string' || boot.length === 0 || boot.length > 100) return null;
    if (typeof marker !== 'string' || marker.length === 0 || marker.length > 200) return null;
    return { pid, start, boot, marker };
  } catch {
    return null;
  }
}

/** A positive integer pid from the first line of a pid file, or null. */
export function readPidFile(path: string): number | null {
  return readPidRecord(path)?.pid ?? null;
}
