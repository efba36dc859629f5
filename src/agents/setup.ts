import { spawn } from 'node:child_process';
import { openSync, closeSync, writeSync } from 'node:fs';

export const SETUP_TIMEOUT_MS = 15 * 60 * 1000;

/**
 * Runs a repository's `setup` argv (e.g. `npm ci`) in a new worktree, with
 * the agent's scrubbed environment, appending its output to the agent's log
 * so a failed setup can be read like any other agent output.
 */
export function runSetup(argv: string[], cwd: string, env: Record<string, string>, logPath: string, timeoutMs = SETUP_TIMEOUT_MS): Promise<{ ok: boolean; message: string }> {
  const [command, ...args] = argv;
  if (!command) return Promise.resolve({ ok: false, message: 'setup is empty' });
  const logFd = openSync(logPath, 'a', 0o600);
  writeSync(logFd, `[mosaic] setup: ${JSON.stringify(argv)}\n`);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: { ok: boolean; message: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      writeSync(logFd, `[mosaic] setup ${result.ok ? 'done' : `failed: ${result.message}`}\n`);
      closeSync(logFd);
      resolve(result);
    };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', logFd, logFd], detached: true });
    const timer = setTimeout(() => {
      if (child.pid) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      finish({ ok: false, message: `setup timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    child.on('error', (err) => finish({ ok: false, message: err.message }));
    child.on('exit', (code, signal) => {
      finish(code === 0 ? { ok: true, message: 'ok' } : { ok: false, message: signal ? `killed by ${signal}` : `exit code ${code}` });
    });
  });
}
