/** Runs a runtime's preflight check (runtime.ts `Preflight`): bounded, no shell, output kept small. */
import { execFile } from 'node:child_process';
import type { AgentError } from '../types.js';
import type { Preflight } from './runtime.js';

const MAX_OUTPUT = 64 * 1024;

export function runPreflight(check: Preflight, cwd: string, env: Record<string, string>): Promise<AgentError | null> {
  const [file, ...args] = check.argv as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: check.timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT, windowsHide: true }, (err, stdout, stderr) => {
      const failure = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
      if (failure?.code === 'ENOENT') {
        resolve({ code: 'runtime_not_found', message: `command not found: ${file}` });
        return;
      }
      const timedOut = failure?.killed === true;
      const exitCode = failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null;
      resolve(check.judge({ exitCode, output: `${stdout}\n${stderr}`, timedOut }));
    }).stdin?.end();
  });
}
