/**
 * PID reuse on demand, for the tests of issue 23: as root, writing N-1 to
 * /proc/sys/kernel/ns_last_pid makes the kernel hand the next new process
 * pid N (when N is free). Other processes on the machine may fork in between:
 * every helper retries until it got the number it asked for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, writeFileSync } from 'node:fs';
import { writePidFile } from '../agents/supervisor/pid-file.js';
import { isPidAlive, MARKER_VAR } from '../agents/supervisor/proc.js';
import { waitFor } from './wait.js';

const NS_LAST_PID = '/proc/sys/kernel/ns_last_pid';
const ATTEMPTS = 400;

/** Linux, as root, with a writable ns_last_pid: the pid-reuse tests can run. */
export function canForcePids(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    accessSync(NS_LAST_PID, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** An unrelated process (no Mosaic marker) that leads its own session and process group. */
export interface Stranger {
  pid: number;
  alive(): boolean;
  stop(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

/** The number is free: no process (not even a zombie) holds it. */
export function pidFree(pid: number): boolean {
  return !existsSync(`/proc/${pid}`);
}

/**
 * Starts `sleep 600` as pid `pid`, a new session and process-group leader
 * (so its pgid is `pid` too) without any Mosaic marker: the unrelated
 * process that took a number Mosaic recorded. Waits for the number to be
 * free first.
 */
export async function strangerAt(pid: number): Promise<Stranger> {
  await waitFor(() => pidFree(pid), { timeoutMs: 10_000, what: `pid ${pid} to be free` });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    writeFileSync(NS_LAST_PID, String(pid - 1));
    const child = spawn('sleep', ['600'], { detached: true, stdio: 'ignore', env });
    if (child.pid === pid) {
      child.unref();
      return {
        pid,
        alive: () => child.exitCode === null && child.signalCode === null && isPidAlive(pid),
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        },
      };
    }
    child.kill('SIGKILL');
    await exited(child);
    if (!pidFree(pid)) await waitFor(() => pidFree(pid), { timeoutMs: 10_000, what: `pid ${pid} to be free again` });
    await sleep(attempt % 20 === 19 ? 50 : 1);
  }
  throw new Error(`could not get pid ${pid} after ${ATTEMPTS} attempts`);
}

/**
 * Writes a pid file (supervisor/pid-file.ts format) for a process that ran
 * with `MOSAIC_AGENT_ID=<marker>` and is gone now (exited and reaped), its
 * number free: what a pid file looks like once the process it names ended
 * without the file being removed. Returns the number.
 */
export async function pidFileOfGoneProcess(path: string, marker: string): Promise<number> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', [MARKER_VAR]: marker };
  const child = spawn('sleep', ['0.2'], { detached: true, stdio: 'ignore', env });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start a process');
  // Still our unreaped child: the identity taken now is certainly its own.
  writePidFile(path, pid, marker);
  await exited(child);
  await waitFor(() => pidFree(pid), { timeoutMs: 10_000, what: `pid ${pid} to be reaped` });
  return pid;
}
