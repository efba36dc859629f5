import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { quote } from 'shell-quote';
import { MARKER_VAR, signalChildGroup, writePidFile } from './supervisor/index.js';

export const SETUP_TIMEOUT_MS = 15 * 60 * 1000;
/** In the agent's folder while its setup runs: the setup's process group id. */
export const SETUP_PID_FILE = 'setup.pid';

export interface SetupOptions {
  /** Aborting (a kill) ends the setup's whole process group. */
  signal?: AbortSignal;
  /**
   * Where the setup's process group id is kept while it runs, with its
   * identity (marker: the env's MOSAIC_AGENT_ID), so a restarted server can
   * end it, and only it.
   */
  pidFile?: string;
  timeoutMs?: number;
  /** Nice value for the setup's process (e.g. 10 for a warm pool's, so agents' spawns go first). */
  priority?: number;
  /**
   * The setup as the repository has it, for the log's first line, when
   * `argv` is that setup wrapped in the sandbox: people read their own
   * command there, not bubblewrap's argv (the server logs that at debug).
   */
  shown?: readonly string[];
}

/** A setup argv as the user wrote it: `sh -c <text>` (what `--setup "…"` stores) shows the text alone. */
export function setupText(argv: readonly string[]): string {
  if (argv.length === 3 && argv[0] === 'sh' && argv[1] === '-c') return argv[2]!;
  return quote([...argv]);
}

/**
 * Runs a repository's `setup` argv (e.g. `npm ci`) in a new worktree, with
 * the agent's scrubbed environment, appending its output to the agent's log
 * so a failed setup can be read like any other agent output.
 */
export function runSetup(argv: string[], cwd: string, env: Record<string, string>, logPath: string, opts: SetupOptions = {}): Promise<{ ok: boolean; message: string }> {
  const timeoutMs = opts.timeoutMs ?? SETUP_TIMEOUT_MS;
  const [command, ...args] = argv;
  if (!command) return Promise.resolve({ ok: false, message: 'setup is empty' });
  const logFd = openSync(logPath, 'a', 0o600);
  writeSync(logFd, `[mosaic] setup: ${setupText(opts.shown ?? argv)}\n`);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: { ok: boolean; message: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.pidFile) rmSync(opts.pidFile, { force: true });
      writeSync(logFd, `[mosaic] setup ${result.ok ? 'done' : `failed: ${result.message}`}\n`);
      closeSync(logFd);
      resolve(result);
    };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', logFd, logFd], detached: true });
    if (child.pid && opts.pidFile) {
      const marker = env[MARKER_VAR];
      // Without a marker there is no identity to record: the pid alone is written, and never signalled by number.
      if (marker) writePidFile(opts.pidFile, child.pid, marker);
      else writeFileSync(opts.pidFile, `${child.pid}\n`, { mode: 0o600 });
    }
    if (child.pid && opts.priority !== undefined) {
      try {
        setPriority(child.pid, opts.priority); // children it starts inherit it
      } catch {
        // the process may already be gone; its priority no longer matters
      }
    }
    const stop = (message: string) => {
      signalChildGroup(child, 'SIGKILL'); // only while it is not reaped: then its group is certainly its own
      finish({ ok: false, message });
    };
    const timer = setTimeout(() => stop(`setup timed out after ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => stop('setup stopped: the agent was killed');
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort);
    child.on('error', (err) => finish({ ok: false, message: err.message }));
    child.on('exit', (code, signal) => {
      finish(code === 0 ? { ok: true, message: 'ok' } : { ok: false, message: signal ? `killed by ${signal}` : `exit code ${code}` });
    });
  });
}
