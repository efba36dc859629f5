/**
 * Server side: start a detached supervisor for one agent and wait until the
 * agent is running (child.pid) or has failed to start (exit.json).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MosaicError } from '../../core/errors.js';
import { readPidFile } from './pid-file.js';
import { BOOT_ID_PATH_VAR, isPidAlive, MARKER_VAR, writeFileAtomic } from './proc.js';
import { readExitRecord } from './probe.js';
import { CHILD_PID_FILE, SPEC_FILE, type ExitRecord, type SupervisorSpec } from './spec.js';

export interface LaunchResult {
  supervisorPid: number;
  /** The agent's pid and process group; null when it never started, or had not yet when the wait ran out. */
  pgid: number | null;
  /** Set when the agent already ended (typically an immediate spawn failure). */
  exit: ExitRecord | null;
}

export interface LaunchOptions {
  /** How long to wait for child.pid or exit.json (default 10 s). */
  waitMs?: number;
  /** A supervisor started ahead for this agent (prestartSupervisor): given the spec instead of starting another. */
  prestarted?: PrestartedSupervisor | null;
}

/**
 * A supervisor started before its spec exists (`--await-spec`), so Node's
 * start-up (~100 ms here) overlaps the sandbox's preparation instead of
 * following it. Either handed to launchSupervisor or cancelled.
 */
export interface PrestartedSupervisor {
  readonly agentId: string;
  readonly agentDir: string;
  readonly proc: ChildProcess;
  readonly startedAt: number;
  /** Ends it if it still waits (it then exits without writing anything). Idempotent. */
  cancel(): void;
}

/**
 * A started-ahead supervisor waits for its spec MOSAIC_SUPERVISOR_SPEC_WAIT_MS
 * (120 s); one older than this is not used (it could give up just as the
 * spec lands): it is cancelled and a fresh one started.
 */
const PRESTART_MAX_AGE_MS = 90_000;

const POLL_MS = 25;
const DEFAULT_WAIT_MS = 10_000;

/**
 * Variables the supervisor process itself needs; it passes the agent only
 * `spec.env` (plus the marker). The test-only boot id path goes along, so
 * the supervisor records the boot id the server reads.
 */
const SUPERVISOR_ENV_KEYS = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', BOOT_ID_PATH_VAR];

/**
 * How to start the supervisor entry that sits next to `moduleUrl`: from
 * TypeScript sources (tests, tsx) through tsx's loader, from compiled `dist/`
 * with plain node. Exported separately so both branches can be tested.
 */
export function supervisorCommandFor(moduleUrl: string, opts: { preferBuild?: boolean } = {}): { execPath: string; args: string[] } {
  const here = dirname(fileURLToPath(moduleUrl));
  if (moduleUrl.endsWith('.ts')) {
    // A build at least as new as every supervisor source starts several times faster than tsx; use it when there is one.
    const built = opts.preferBuild ? freshBuild(here) : undefined;
    if (built) return { execPath: process.execPath, args: [built] };
    // An absolute loader URL: the supervisor's cwd (the agent dir) cannot resolve the bare name `tsx`.
    const tsxLoader = pathToFileURL(createRequire(moduleUrl).resolve('tsx')).href;
    return { execPath: process.execPath, args: ['--import', tsxLoader, join(here, 'main.ts')] };
  }
  return { execPath: process.execPath, args: [join(here, 'main.js')] };
}

/**
 * `dist/agents/supervisor/main.js` when it was compiled from the sources as
 * they are now (every non-test .ts here has a .js there that is not older),
 * so a stale build is never run.
 */
export function freshBuild(sourceDir: string): string | undefined {
  const distDir = resolve(sourceDir, '../../../dist/agents/supervisor');
  try {
    const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const fresh = sources.every((file) => statSync(join(distDir, file.replace(/\.ts$/, '.js'))).mtimeMs >= statSync(join(sourceDir, file)).mtimeMs);
    return fresh && sources.includes('main.ts') ? join(distDir, 'main.js') : undefined;
  } catch {
    return undefined;
  }
}

export function supervisorCommand(): { execPath: string; args: string[] } {
  return supervisorCommandFor(import.meta.url, { preferBuild: true });
}

/** The supervisor's environment: a few of the server's variables and the agent's marker (proc.ts), which proves it is Mosaic's. */
function supervisorEnv(agentId: string): Record<string, string> {
  const env: Record<string, string> = { [MARKER_VAR]: agentId };
  for (const key of SUPERVISOR_ENV_KEYS) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether Node has not yet seen this child exit. */
const notExited = (proc: ChildProcess): boolean => proc.exitCode === null && proc.signalCode === null;

/** The agent directory, made private (0700) even when it existed. */
function privateAgentDir(path: string): string {
  const dir = resolve(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

function startSupervisorProcess(agentId: string, agentDir: string, extraArgs: string[] = []): ChildProcess {
  const { execPath, args } = supervisorCommand();
  const proc = spawn(execPath, [...args, agentDir, ...extraArgs], {
    cwd: agentDir,
    env: supervisorEnv(agentId),
    detached: true,
    stdio: 'ignore',
  });
  proc.unref();
  return proc;
}

/** Cancels a started-ahead supervisor and waits until it has exited (SIGKILL after 2 s). */
async function ended(ahead: PrestartedSupervisor): Promise<void> {
  const { proc } = ahead;
  if (!notExited(proc)) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  ahead.cancel();
  await Promise.race([exited, sleep(2000)]);
  if (!notExited(proc)) return;
  proc.kill('SIGKILL');
  await Promise.race([exited, sleep(1000)]);
}

/**
 * Starts the agent's supervisor now, to be given its spec later
 * (launchSupervisor's `prestarted`); null when it cannot be started (the
 * launch then starts one the usual way). The agent directory is made here.
 */
export function prestartSupervisor(agentId: string, agentDirPath: string): PrestartedSupervisor | null {
  const agentDir = privateAgentDir(agentDirPath);
  let proc: ChildProcess;
  try {
    proc = startSupervisorProcess(agentId, agentDir, ['--await-spec', String(process.pid)]);
  } catch {
    return null;
  }
  proc.on('error', () => undefined); // a failed start is seen as an exited process; the launch starts another
  if (proc.pid === undefined) return null;
  return {
    agentId, agentDir, proc, startedAt: Date.now(),
    // ChildProcess.kill signals only a process it has not yet seen exit: never a stranger that took the pid.
    cancel: () => { if (notExited(proc)) proc.kill('SIGTERM'); },
  };
}

/**
 * Starts the agent under a detached supervisor. Resolves once the agent runs
 * (pgid set) or already ended (exit set). Throws `supervisor_failed` when the
 * supervisor dies without leaving either file. If neither shows up within
 * `waitMs` while the supervisor lives, resolves with both null: the agent is
 * then treated as starting, and the re-attach path picks up child.pid later.
 */
export async function launchSupervisor(spec: SupervisorSpec, opts: LaunchOptions = {}): Promise<LaunchResult> {
  const agentDir = privateAgentDir(spec.agentDir);
  // A supervisor started ahead is used while it still waits and is young enough (see PRESTART_MAX_AGE_MS).
  const ahead = opts.prestarted;
  const usable = ahead !== null && ahead !== undefined && ahead.agentId === spec.agentId && ahead.agentDir === agentDir
    && notExited(ahead.proc) && ahead.proc.pid !== undefined && isPidAlive(ahead.proc.pid)
    && Date.now() - ahead.startedAt < PRESTART_MAX_AGE_MS;
  // One not used is gone before the spec is written: it must never be the one that reads it.
  if (!usable && ahead !== null && ahead !== undefined) await ended(ahead);
  writeFileAtomic(join(agentDir, SPEC_FILE), JSON.stringify({ ...spec, agentDir }), 0o600);

  let spawnError: Error | null = null;
  const started = (child: ChildProcess): ChildProcess => {
    child.on('error', (err) => {
      spawnError = err;
    });
    return child;
  };
  let proc = usable ? ahead.proc : started(startSupervisorProcess(spec.agentId, agentDir));
  let supervisorPid = proc.pid;
  if (supervisorPid === undefined) {
    await sleep(0); // let the 'error' event land so the message is useful
    throw new MosaicError(500, 'supervisor_failed', `cannot start supervisor: ${(spawnError as Error | null)?.message ?? 'unknown error'}`);
  }

  const deadline = Date.now() + (opts.waitMs ?? DEFAULT_WAIT_MS);
  for (;;) {
    const exit = readExitRecord(agentDir);
    const pgid = readPidFile(join(agentDir, CHILD_PID_FILE));
    if (pgid !== null || exit !== null) return { supervisorPid, pgid, exit };
    // The ChildProcess object knows first: its exit is reported even before the pid is reaped.
    if (!notExited(proc) || !isPidAlive(supervisorPid)) {
      // It may have written exit.json just before it exited.
      const late = readExitRecord(agentDir);
      if (late !== null) return { supervisorPid, pgid: readPidFile(join(agentDir, CHILD_PID_FILE)), exit: late };
      // A supervisor started ahead that died before it claimed the spec (still there): start one the usual way.
      if (usable && proc === ahead.proc && existsSync(join(agentDir, SPEC_FILE))) {
        proc = started(startSupervisorProcess(spec.agentId, agentDir));
        if (proc.pid === undefined) throw new MosaicError(500, 'supervisor_failed', 'cannot start supervisor');
        supervisorPid = proc.pid;
        continue;
      }
      throw new MosaicError(500, 'supervisor_failed', `supervisor exited without starting the agent (see ${agentDir})`);
    }
    if (Date.now() >= deadline) return { supervisorPid, pgid: null, exit: null };
    await sleep(POLL_MS);
  }
}
