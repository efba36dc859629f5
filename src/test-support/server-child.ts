import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBuiltCli } from './build.js';
import { freePort } from './federation.js';
import { removeMounted } from './mounts.js';
import { waitFor } from './wait.js';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * `mosaic up` as a child process, for tests that measure the server from the
 * outside (its memory, its open sockets) or start it under OS limits.
 */
export interface ServerChild {
  url: string;
  port: number;
  home: string;
  adminToken: string;
  pid: number;
  process: ChildProcess;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** The server's resident memory now, in KiB (VmRSS from /proc). */
  rssKiB(): number;
  /** How many sockets the server process has open now (from /proc/<pid>/fd). */
  openSockets(): number;
  /** SIGKILLs the server (its agents keep running under their supervisors) and waits for it to be gone. */
  crash(): Promise<void>;
  /** Kills any agent still active, stops the server and deletes the home (unless the caller gave it). */
  stop(): Promise<void>;
}

export interface ServerChildOptions {
  /** MOSAIC_* settings for the server (home and port are set here). */
  env?: Record<string, string>;
  /** A command the server runs under, e.g. `['prlimit', '--nofile=256:256']` (it must exec its argument). */
  wrapper?: string[];
  /** An existing home to serve (for a restart on it later); the caller deletes it. Default: a new temp home. */
  home?: string;
}

export async function startServerChild(opts: ServerChildOptions = {}): Promise<ServerChild> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'mosaic-child-'));
  const ownsHome = opts.home === undefined;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const built = freshBuiltCli();
  const node = [process.execPath, ...(built ? [built] : ['--import', TSX, MAIN]), 'up'];
  const argv = [...(opts.wrapper ?? []), ...node];
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MOSAIC_')));
  const child = spawn(argv[0] as string, argv.slice(1), {
    env: { ...clean, MOSAIC_HOME: home, MOSAIC_PORT: String(port), MOSAIC_LOG_LEVEL: 'silent', MOSAIC_POLL_MS: '50', MOSAIC_KILL_GRACE_MS: '300', ...opts.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode}: ${stderr}`);
      return (await fetch(`${url}/api/v1/health`).catch(() => null))?.ok === true;
    }, { timeoutMs: 45_000, intervalMs: 100, what: 'the server child' });
  } catch (err) {
    child.kill('SIGKILL');
    if (ownsHome) removeMounted(home);
    throw err;
  }
  const adminToken = readFileSync(join(home, 'admin-token'), 'utf8').trim();
  const pid = child.pid as number;
  const api = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    url, port, home, adminToken, pid, process: child, api,
    rssKiB() {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!match) throw new Error(`no VmRSS for pid ${pid}`);
      return Number(match[1]);
    },
    openSockets() {
      let sockets = 0;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets += 1;
        } catch {
          // closed between the listing and the readlink
        }
      }
      return sockets;
    },
    async crash() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async stop() {
      if (child.exitCode === null) {
        // Agents outlive their server by design; a test that is done must not leave them running.
        await api('POST', '/agents/kill-all').catch(() => undefined);
        await waitFor(async () => (await api<{ agents: unknown[] }>('GET', '/agents?state=running')).body.agents.length === 0, { timeoutMs: 10_000 })
          .catch(() => undefined);
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      if (ownsHome) removeMounted(home);
    },
  };
}
