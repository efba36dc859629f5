/**
 * The detached supervisor: `node main.js <agentDir>`.
 *
 * It is the one piece that guarantees no agent work is lost, so it is small,
 * uses Node built-ins only, and survives the server that started it (it runs
 * in its own session; the agent runs in a session of its own too, so the
 * agent's process group is exactly the agent's process tree).
 *
 *   spec.json ──► spawn argv (own group, output → output.log by fd)
 *              ──► child.pid
 *   SIGTERM from server, or timeout ──► SIGTERM group … grace … SIGKILL group
 *   leader exits ──► SIGTERM leftovers … grace … SIGKILL ──► exit.json (atomic)
 *
 * The agent writes to output.log through its own file descriptors, so its
 * output keeps landing in the file even if this process dies; a dead
 * supervisor without exit.json is how the server detects `orchestrator_lost`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { groupMembers, isGroupAlive, signalGroup, signalPid, writeFileAtomic } from './proc.js';
import {
  CHILD_PID_FILE,
  EXIT_FILE,
  OUTPUT_LOG,
  SPEC_FILE,
  SUPERVISOR_PID_FILE,
  type ExitRecord,
  type SpawnError,
  type SupervisorSpec,
} from './spec.js';

const POLL_MS = 50;
/** setTimeout overflows past 2^31-1 ms and would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** After SIGKILL, how long to wait for the kernel to tear the group down. */
const AFTER_KILL_WAIT_MS = 1000;

const agentDir = process.argv[2];
const startedAt = Date.now();

let spec: SupervisorSpec | null = null;
let pgid: number | null = null;
let killed = false;
let timedOut = false;
let escalatedAt: number | null = null;
let leaderExited = false;
let finished = false;
let killTimer: Timer | undefined;
let timeoutTimer: Timer | undefined;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** How long the exit record is retried when it cannot be written (a full disk, say) before giving up. */
const EXIT_WRITE_PATIENCE_MS = Number(process.env.MOSAIC_SUPERVISOR_EXIT_PATIENCE_MS ?? 10 * 60_000);

/** Blocks this (otherwise idle) process: the agent has ended, nothing else is left to do. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function finish(record: Omit<ExitRecord, 'startedAt' | 'endedAt'>): never {
  finished = true;
  const full: ExitRecord = { ...record, startedAt, endedAt: Date.now() };
  if (agentDir === undefined) process.exit(0);
  // Only this process knows how the agent ended: while it stays alive the server waits for the record
  // (an alive supervisor is a running agent), so a write that fails — a full disk — is retried
  // rather than letting the agent be taken for `orchestrator_lost`.
  const deadline = Date.now() + EXIT_WRITE_PATIENCE_MS;
  for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
    try {
      writeFileAtomic(join(agentDir, EXIT_FILE), `${JSON.stringify(full)}\n`);
      process.exit(0);
    } catch (err) {
      try {
        rmSync(`${join(agentDir, EXIT_FILE)}.tmp-${process.pid}`, { force: true });
      } catch {
        // best effort
      }
      // A deleted agent directory (the agent was removed, or its whole home) has no reader left: waiting
      // out the patience would only keep an idle process alive for minutes.
      if (Date.now() >= deadline || !existsSync(agentDir)) {
        // Nothing else can record it; the server will see a dead supervisor without exit.json.
        process.exit(1);
      }
      try {
        appendFileSync(join(agentDir, OUTPUT_LOG), `[mosaic supervisor] cannot write ${EXIT_FILE} (${messageOf(err)}); retrying\n`);
      } catch {
        // the log is on the same full disk, probably
      }
      sleepSync(delay);
    }
  }
}

function finishSpawnError(err: unknown): never {
  const code = (err as { code?: unknown } | null)?.code;
  const spawnError: SpawnError = {
    code: code === 'ENOENT' ? 'runtime_not_found' : 'spawn_failed',
    message:
      code === 'ENOENT' && spec !== null
        ? `command not found: ${spec.argv[0] ?? ''}`
        : messageOf(err),
  };
  return failToStart(spawnError);
}

/** The agent never ran: record why. */
function failToStart(spawnError: SpawnError): never {
  return finish({ exitCode: null, signal: null, timedOut: false, killed, spawnError });
}

function parseSpec(text: string): SupervisorSpec {
  const raw = JSON.parse(text) as Partial<SupervisorSpec> | null;
  const ok =
    raw !== null &&
    typeof raw === 'object' &&
    Array.isArray(raw.argv) &&
    raw.argv.length > 0 &&
    raw.argv.every((a) => typeof a === 'string') &&
    typeof raw.cwd === 'string' &&
    typeof raw.env === 'object' &&
    raw.env !== null &&
    Object.values(raw.env).every((v) => typeof v === 'string') &&
    typeof raw.killGraceMs === 'number' &&
    raw.killGraceMs >= 0 &&
    (raw.timeoutMs === null || (typeof raw.timeoutMs === 'number' && raw.timeoutMs > 0)) &&
    (raw.sandboxed === undefined || typeof raw.sandboxed === 'boolean');
  if (!ok) throw new Error('malformed supervisor spec');
  return raw as SupervisorSpec;
}

interface Timer {
  cancel(): void;
}

/** Runs `fn` once `ms` have passed, even when `ms` exceeds setTimeout's range. */
function after(ms: number, fn: () => void): Timer {
  const deadline = Date.now() + ms;
  let handle: NodeJS.Timeout;
  const arm = (): void => {
    const left = deadline - Date.now();
    if (left <= 0) fn();
    else handle = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  handle = setTimeout(arm, Math.min(ms, MAX_TIMER_MS));
  return { cancel: () => clearTimeout(handle) };
}

/** SIGTERM the whole group now, SIGKILL it after the grace. Idempotent. */
function escalate(): void {
  if (escalatedAt !== null || pgid === null || leaderExited || spec === null) return;
  escalatedAt = Date.now();
  terminate(pgid, spec.sandboxed === true);
  const group = pgid;
  killTimer = after(spec.killGraceMs, () => signalGroup(group, 'SIGKILL'));
}

/**
 * SIGTERM to the agent's group. A sandbox (the leader) would die of it at
 * once and take everything inside with it, ungracefully; so when sandboxed,
 * every member but the leader gets the SIGTERM, and the SIGKILL after the
 * grace (to the whole group, leader included) ends the sandbox.
 */
function terminate(group: number, sandboxed: boolean): void {
  if (!sandboxed) {
    signalGroup(group, 'SIGTERM');
    return;
  }
  const members = groupMembers(group);
  if (members === null) return; // no /proc: the SIGKILL after the grace ends it
  for (const pid of members) if (pid !== group) signalPid(pid, 'SIGTERM');
}

async function waitGroupGone(group: number, deadline: number): Promise<boolean> {
  while (isGroupAlive(group)) {
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
  return true;
}

/**
 * The agent's main process ended. Whatever it left behind in its group
 * (dev servers, watchers) must go too, or the worktree could not be removed
 * safely; only then is the exit recorded.
 */
async function onLeaderExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
  if (leaderExited || finished || spec === null || pgid === null) return;
  leaderExited = true;
  timeoutTimer?.cancel();
  const group = pgid;
  if (escalatedAt === null && isGroupAlive(group)) terminate(group, spec.sandboxed === true);
  const deadline = (escalatedAt ?? Date.now()) + spec.killGraceMs;
  if (!(await waitGroupGone(group, deadline))) {
    signalGroup(group, 'SIGKILL');
    await waitGroupGone(group, Date.now() + AFTER_KILL_WAIT_MS);
  }
  killTimer?.cancel();
  finish({ exitCode: code, signal, timedOut, killed, spawnError: null });
}

/**
 * Before the agent exists, an error means it could not be started. After,
 * stay alive: the exit path is what records the agent's end, so note the
 * error in the log (the stream parser skips non-JSON lines) and carry on.
 */
function onInternalError(err: unknown): void {
  if (finished) return;
  if (pgid === null) finishSpawnError(err);
  try {
    if (agentDir !== undefined) appendFileSync(join(agentDir, OUTPUT_LOG), `[mosaic-supervisor] internal error: ${messageOf(err)}\n`);
  } catch {
    // Nowhere else to report it.
  }
}

function start(): void {
  if (agentDir === undefined) {
    process.stderr.write('usage: main.js <agentDir>\n');
    process.exit(2);
  }
  // A kill may arrive at any moment, even before the agent exists.
  // start() below is synchronous, so the handler runs either after the agent
  // was spawned (escalate) or while a spawn error is pending (recorded as killed).
  process.on('SIGTERM', () => {
    killed = true;
    escalate();
  });
  // The server's terminal going away must not take the agent with it.
  process.on('SIGHUP', () => undefined);
  process.on('SIGINT', () => undefined);
  process.on('uncaughtException', onInternalError);

  let loaded: SupervisorSpec;
  try {
    loaded = parseSpec(readFileSync(join(agentDir, SPEC_FILE), 'utf8'));
    // The spec holds the agent's environment, secrets included: read once, it need not stay on disk.
    rmSync(join(agentDir, SPEC_FILE), { force: true });
  } catch (err) {
    failToStart({ code: 'spawn_failed', message: `cannot read supervisor spec: ${messageOf(err)}` });
  }
  spec = loaded;
  writeFileAtomic(join(agentDir, SUPERVISOR_PID_FILE), `${process.pid}\n`);

  try {
    if (!statSync(loaded.cwd).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    failToStart({ code: 'spawn_failed', message: `working directory ${loaded.cwd}: ${messageOf(err)}` });
  }

  const logFd = openSync(join(agentDir, OUTPUT_LOG), 'a', 0o600);
  let child: ChildProcess;
  try {
    const [cmd, ...args] = loaded.argv as [string, ...string[]];
    child = spawn(cmd, args, {
      cwd: loaded.cwd,
      env: loaded.env,
      // Its own session and process group (pgid = its pid), so one signal reaches its whole tree.
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
  } catch (err) {
    finishSpawnError(err);
  } finally {
    closeSync(logFd);
  }
  child.on('error', (err) => {
    if (child.pid === undefined && !finished) finishSpawnError(err);
  });
  child.on('exit', (code, signal) => void onLeaderExit(code, signal));
  if (child.pid === undefined) return; // the 'error' event follows

  pgid = child.pid;
  writeFileAtomic(join(agentDir, CHILD_PID_FILE), `${child.pid}\n`);
  if (killed) escalate();
  if (loaded.timeoutMs !== null) {
    timeoutTimer = after(loaded.timeoutMs, () => {
      if (!killed) timedOut = true;
      escalate();
    });
  }
}

try {
  start();
} catch (err) {
  onInternalError(err);
}
