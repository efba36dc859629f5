import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBuiltCli } from './build.js';

/** Runs the real `mosaic` CLI as a child process, for tests: compiled when `dist/` is fresh, else through tsx. */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
/** tsx's loader by absolute URL, so the CLI can run from any working directory. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The parent's environment without any MOSAIC_* setting, plus `env`. */
export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MOSAIC_')));
  return { ...clean, ...env };
}

/** The argv that runs the CLI (built when fresh, else through tsx), for tests that put it in a shell pipeline. */
export function cliArgv(): string[] {
  return [process.execPath, ...cliEntry()];
}

/** The program and arguments that run the CLI (built when fresh, else through tsx), for clients that start it themselves. */
export function cliCommand(): { command: string; args: string[] } {
  return { command: process.execPath, args: cliEntry() };
}

export function startCli(args: string[], env: Record<string, string>, cwd = ROOT): ChildProcess {
  const entry = cliEntry();
  return spawn(process.execPath, [...entry, ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

let builtCli: string | undefined | null = null;
/** Decided once per worker process (its test files share this module): the sources do not change during a run. */
function cliEntry(): string[] {
  if (builtCli === null) builtCli = freshBuiltCli();
  return builtCli ? [builtCli] : ['--import', TSX, MAIN];
}

/** Collects a started CLI's output until it exits. */
export function finished(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs the CLI to completion (asynchronously: the instance under test runs in this same process). */
export function runCli(args: string[], env: Record<string, string>, cwd = ROOT): Promise<CliResult> {
  return finished(startCli(args, env, cwd));
}

/** Polls `read` until `done` holds, failing with the last value after `timeoutMs`. */
export async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs}ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
