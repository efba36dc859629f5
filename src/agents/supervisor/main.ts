/**
 * The detached supervisor: `node main.js <agentDir> [--await-spec <serverPid>]`.
 *
 * With `--await-spec` it is started before its spec exists and claims it
 * when it lands (await-spec.ts); a SIGTERM while it waits, no spec within
 * SPEC_WAIT_MS, or its server gone ends it without a trace: nothing of the
 * agent has run, and the launcher reports what happened.
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
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { claimedSpecFile, claimSpec } from './await-spec.js';
import { writePidFile } from './pid-file.js';
import { isRecordedGroupAlive, MARKER_VAR, signalChildGroup, signalRecordedGroup, writeFileAtomic, type ProcIdentity } from './proc.js';
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
const awaitSpec = process.argv[3] === '--await-spec';
const serverPid = Number(process.argv[4]);
/** How long a supervisor started ahead waits for its spec (the launcher uses it only when it is younger than PRESTART_MAX_AGE_MS in launch.ts). */
const SPEC_WAIT_MS = Number(process.env.MOSAIC_SUPERVISOR_SPEC_WAIT_MS ?? 120_000);
let startedAt = Date.now();

let spec: SupervisorSpec | null = null;
let pgid: number | null = null;
/** The agent's process while it is not reaped: signalling its group needs no other proof. */
let child: ChildProcess | null = null;
/** The agent's identity as recorded in child.pid: what reaches its group's leftovers once it is reaped. */
let childIdentity: ProcIdentity | null = null;
let killed = false;
let timedOut = false;
/** Ended because its output held no event within firstEventMs. */
let silentAfterMs: number | null = null;
let escalatedAt: number | null = null;
let leaderExited = false;
let finished = false;
let killTimer: Timer | undefined;
let timeoutTimer: Timer | undefined;
let firstEventTimer: Timer | undefined;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** How long the exit record is retried when it cannot be written (a full disk, say) before giving up. */
const EXIT_WRITE_PATIENCE_MS = Number(process.env.MOSAIC_SUPERVISOR_EXIT_PATIENCE_MS ?? 10 * 60_000);

/** Blocks this (otherwise idle) process: the agent has ended, nothing else is left to do. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** When the agent's first byte of output reached the log (timings: the end of `launch`). */
let firstOutputAt: number | null = null;

/**
 * Watches output.log grow past `baseSize` (what setup wrote before): every
 * 10 ms for the first 2 s, then every 100 ms, until the first byte.
 */
function watchFirstOutput(logPath: string, baseSize: number): void {
  const since = Date.now();
  const check = (): boolean => {
    if (firstOutputAt !== null) return true;
    try {
      if (statSync(logPath).size > baseSize) firstOutputAt = Date.now();
    } catch {
      return true; // the log is gone: nothing to time
    }
    return firstOutputAt !== null;
  };
  const poll = (): void => {
    if (check() || finished) return;
    setTimeout(poll, Date.now() - since < 2000 ? 10 : 100).unref();
  };
  poll();
  firstOutputCheck = check;
}
let firstOutputCheck: () => boolean = () => true;

function finish(record: Omit<ExitRecord, 'startedAt' | 'endedAt' | 'firstOutputAt'>): never {
  finished = true;
  firstOutputCheck();
  const full: ExitRecord = { ...record, startedAt, endedAt: Date.now(), firstOutputAt };
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
    typeof raw.agentId === 'string' &&
    raw.agentId.length > 0 &&
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
    (raw.sandboxed === undefined || typeof raw.sandboxed === 'boolean') &&
    (raw.firstEventMs === undefined || (typeof raw.firstEventMs === 'number' && raw.firstEventMs > 0));
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

/**
 * Signals the agent's group. While the leader is our unreaped child, the
 * whole group; once it is reaped the group number could in time be anyone's,
 * so only the members that carry the agent's marker (proc.ts).
 */
function signalAgentGroup(sig: NodeJS.Signals, opts: { spareLeader?: boolean } = {}): void {
  if (child !== null && signalChildGroup(child, sig, opts)) return;
  if (childIdentity !== null) signalRecordedGroup(childIdentity, sig, opts);
}

/** Something of the agent's still runs (a leftover of its group that carries its marker). */
function agentGroupAlive(): boolean {
  if (child !== null && child.exitCode === null && child.signalCode === null) return true;
  return childIdentity !== null && isRecordedGroupAlive(childIdentity);
}

/** SIGTERM the whole group now, SIGKILL it after the grace. Idempotent. */
function escalate(): void {
  if (escalatedAt !== null || pgid === null || leaderExited || spec === null) return;
  escalatedAt = Date.now();
  terminate(spec.sandboxed === true);
  killTimer = after(spec.killGraceMs, () => signalAgentGroup('SIGKILL'));
}

/**
 * SIGTERM to the agent's group. A sandbox (the leader) would die of it at
 * once and take everything inside with it, ungracefully; so when sandboxed,
 * every member but the leader gets the SIGTERM, and the SIGKILL after the
 * grace (to the whole group, leader included) ends the sandbox.
 */
function terminate(sandboxed: boolean): void {
  // Without /proc a sandbox's members cannot be listed: the SIGKILL after the grace ends them.
  signalAgentGroup('SIGTERM', { spareLeader: sandboxed });
}

async function waitGroupGone(deadline: number): Promise<boolean> {
  while (agentGroupAlive()) {
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
  firstEventTimer?.cancel();
  if (escalatedAt === null && agentGroupAlive()) terminate(spec.sandboxed === true);
  const deadline = (escalatedAt ?? Date.now()) + spec.killGraceMs;
  if (!(await waitGroupGone(deadline))) {
    signalAgentGroup('SIGKILL');
    await waitGroupGone(Date.now() + AFTER_KILL_WAIT_MS);
  }
  killTimer?.cancel();
  const silence = silentAfterMs !== null ? { silent: true, silentAfterMs } : {};
  finish({ exitCode: code, signal, timedOut, killed, spawnError: null, ...silence });
}

/** A JSON object line with a `"type"`: an event of every stream runtime's format. */
const EVENT_LINE = /^\s*\{.*"type"\s*:/m;
/** How much of the log the first-event check reads (the events come first; stray stderr is short). */
const FIRST_EVENT_SCAN_BYTES = 1024 * 1024;

function sawEvent(): boolean {
  if (agentDir === undefined) return true;
  let fd: number | undefined;
  try {
    fd = openSync(join(agentDir, OUTPUT_LOG), 'r');
    const buf = Buffer.alloc(FIRST_EVENT_SCAN_BYTES);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return EVENT_LINE.test(buf.subarray(0, n).toString('utf8'));
  } catch {
    return true; // cannot tell: never end an agent on a guess
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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

/** Where this supervisor reads its spec from: spec.json itself, or its own claim on it (`--await-spec`). */
const specFile = awaitSpec ? claimedSpecFile(process.pid) : SPEC_FILE;

async function main(): Promise<void> {
  if (agentDir === undefined) {
    process.stderr.write('usage: main.js <agentDir> [--await-spec <serverPid>]\n');
    process.exit(2);
  }
  if (awaitSpec) {
    // Cancelled by the launcher (the agent failed or was killed before it ran): nothing to record.
    const cancel = (): never => process.exit(0);
    process.on('SIGTERM', cancel);
    process.on('SIGHUP', () => undefined);
    process.on('SIGINT', () => undefined);
    if (!(await claimSpec(agentDir, serverPid, SPEC_WAIT_MS))) process.exit(0);
    process.off('SIGTERM', cancel);
    startedAt = Date.now();
  }
  start();
}

function start(): void {
  if (agentDir === undefined) process.exit(2);
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
    loaded = parseSpec(readFileSync(join(agentDir, specFile), 'utf8'));
    // The spec holds the agent's environment, secrets included: read once, it need not stay on disk.
    rmSync(join(agentDir, specFile), { force: true });
  } catch (err) {
    failToStart({ code: 'spawn_failed', message: `cannot read supervisor spec: ${messageOf(err)}` });
  }
  spec = loaded;
  // Recorded with this process's identity (its marker: MOSAIC_AGENT_ID, set by the launcher), so a server signals it only while it is provably this supervisor.
  writePidFile(join(agentDir, SUPERVISOR_PID_FILE), process.pid, loaded.agentId);

  try {
    if (!statSync(loaded.cwd).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    failToStart({ code: 'spawn_failed', message: `working directory ${loaded.cwd}: ${messageOf(err)}` });
  }

  const logFd = openSync(join(agentDir, OUTPUT_LOG), 'a', 0o600);
  const logSizeAtStart = statSync(join(agentDir, OUTPUT_LOG)).size;
  let started: ChildProcess;
  try {
    const [cmd, ...args] = loaded.argv as [string, ...string[]];
    started = spawn(cmd, args, {
      cwd: loaded.cwd,
      // The marker every process of the agent carries: how its group's members are told from strangers.
      env: { ...loaded.env, [MARKER_VAR]: loaded.agentId },
      // Its own session and process group (pgid = its pid), so one signal reaches its whole tree.
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
  } catch (err) {
    finishSpawnError(err);
  } finally {
    closeSync(logFd);
  }
  child = started;
  started.on('error', (err) => {
    if (started.pid === undefined && !finished) finishSpawnError(err);
  });
  started.on('exit', (code, signal) => void onLeaderExit(code, signal));
  if (started.pid === undefined) return; // the 'error' event follows
  watchFirstOutput(join(agentDir, OUTPUT_LOG), logSizeAtStart);

  pgid = started.pid;
  // Taken now, while the agent is this process's unreaped child: the pid is certainly the agent's.
  childIdentity = writePidFile(join(agentDir, CHILD_PID_FILE), started.pid, loaded.agentId);
  if (killed) escalate();
  const firstEventMs = loaded.firstEventMs;
  if (firstEventMs !== undefined) {
    firstEventTimer = after(firstEventMs, () => {
      if (killed || leaderExited || sawEvent()) return;
      silentAfterMs = firstEventMs;
      escalate();
    });
  }
  if (loaded.timeoutMs !== null) {
    timeoutTimer = after(loaded.timeoutMs, () => {
      if (!killed) timedOut = true;
      escalate();
    });
  }
}

main().catch(onInternalError);
