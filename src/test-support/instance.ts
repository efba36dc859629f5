import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { startInstance, type Instance } from '../instance/index.js';
import { makeTempRepo, type TempDir, type TempRepoOptions } from './git-fixtures.js';

/** A real instance on loopback port 0 with a temporary home, and an authenticated fetch. */
export interface TestInstance extends Instance {
  home: string;
  api<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** Stops the server and deletes the home (when `keepHome` is not set). */
  stop(keepHome?: boolean): Promise<void>;
}

async function endAgents(instance: Instance): Promise<void> {
  const active = ['queued', 'spawning', 'running'] as const;
  await instance.agents.killAll();
  const deadline = Date.now() + instance.config.killGraceMs + 5000;
  while ((await instance.agents.list({ state: [...active] })).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function startTestInstance(config: Partial<Config> = {}, home = mkdtempSync(join(tmpdir(), 'mosaic-home-'))): Promise<TestInstance> {
  const instance = await startInstance({
    env: {},
    config: { home, port: 0, host: '127.0.0.1', logLevel: 'silent', killGraceMs: 500, pollMs: 50, ...config },
  });
  return Object.assign(instance, {
    home,
    async api<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const init: RequestInit = {
        method,
        headers: {
          authorization: `Bearer ${instance.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
      };
      if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await fetch(`${instance.url}/api/v1${path}`, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON (diffs are text/plain).
      }
      return { status: res.status, body: parsed as T };
    },
    async stop(keepHome = false) {
      // Agents outlive their server by design; a test that is done with its home must not leave them running.
      if (!keepHome) await endAgents(instance);
      await instance.close();
      if (!keepHome) rmSync(home, { recursive: true, force: true });
    },
  });
}

/** A test instance with one temporary repository registered as `app`; `stop()` ends both. */
export interface InstanceWithRepo {
  t: TestInstance;
  repo: TempDir;
  stop(): Promise<void>;
}

export async function startInstanceWithRepo(opts: { config?: Partial<Config>; repo?: TempRepoOptions } = {}): Promise<InstanceWithRepo> {
  const repo = await makeTempRepo(opts.repo);
  const t = await startTestInstance(opts.config);
  const res = await t.api('POST', '/repos', { name: 'app', path: repo.path });
  if (res.status !== 201) {
    await t.stop();
    repo.cleanup();
    throw new Error(`registering the test repository answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return { t, repo, async stop() { await t.stop(); repo.cleanup(); } };
}
