import { createServer } from 'node:net';
import type { PublicAgent } from '../agents/index.js';
import type { Config } from '../core/config.js';
import type { ConnectionRecord } from '../federation/index.js';
import { makeTempRepo, type TempDir } from './git-fixtures.js';
import { startTestInstance, type TestInstance } from './instance.js';

/** Two real instances on loopback: a hub that spawns on a spoke, connected by an invite (or not, with `connect: false`). */
export interface Pair {
  hub: TestInstance;
  spoke: TestInstance;
  /** The repository registered on the spoke as `web`. */
  repo: TempDir;
  /** The connection records on each side (after connecting). */
  hubConn: ConnectionRecord;
  spokeConn: ConnectionRecord;
  /** Stops both instances and removes their homes and the repository. */
  stop(): Promise<void>;
}

export interface PairOptions {
  hubConfig?: Partial<Config>;
  spokeConfig?: Partial<Config>;
  /** Grants in the invite; default: every command, repo `web`, runtime `command`, 5 agents. */
  grants?: Record<string, unknown>;
  /** Connect by invite (default true). */
  connect?: boolean;
  /** The hub pulls the spoke's events. */
  pull?: boolean;
}

export const TEST_GRANTS = {
  commands: ['agent.spawn', 'agent.status', 'agent.kill', 'agent.list', 'agent.logs', 'agent.diff'],
  repos: ['web'],
  runtimes: ['command'],
  maxActiveAgents: 5,
};

/** A TCP port that was free a moment ago (for an instance that must come back on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Fast retries so tests observe recovery quickly. */
export const FAST_FEDERATION: Partial<Config> = { fedRetryMaxMs: 200, fedTimeoutMs: 3000 };
const FAST = FAST_FEDERATION;

export async function startPair(opts: PairOptions = {}): Promise<Pair> {
  const repo = await makeTempRepo();
  const spoke = await startTestInstance({ name: 'spoke', ...FAST, ...opts.spokeConfig });
  const hub = await startTestInstance({ name: 'hub', ...FAST, ...opts.hubConfig });
  const pair = {
    hub, spoke, repo,
    async stop() {
      await Promise.allSettled([hub.stop(), spoke.stop()]);
      repo.cleanup();
    },
  } as Pair;
  try {
    const reg = await spoke.api('POST', '/repos', { name: 'web', path: repo.path });
    if (reg.status !== 201) throw new Error(`registering the repo answered ${reg.status}: ${JSON.stringify(reg.body)}`);
    if (opts.connect !== false) {
      const { token } = await invite(spoke, opts.grants ?? TEST_GRANTS);
      const res = await hub.api<ConnectionRecord>('POST', '/federation/connections', { url: spoke.url, token, name: 'spoke', ...(opts.pull ? { pull: true } : {}) });
      if (res.status !== 201) throw new Error(`connect answered ${res.status}: ${JSON.stringify(res.body)}`);
      pair.hubConn = res.body;
      pair.spokeConn = await connectionOn(spoke, hub.identity.instanceId);
    }
  } catch (err) {
    await pair.stop();
    throw err;
  }
  return pair;
}

export async function invite(t: TestInstance, grants: Record<string, unknown> = TEST_GRANTS, ttlS?: number): Promise<{ token: string; expiresAt: number }> {
  const res = await t.api<{ token: string; expiresAt: number }>('POST', '/federation/invites', { grants, ...(ttlS ? { ttlS } : {}) });
  if (res.status !== 201) throw new Error(`invite answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The connection `t` has with `ref` (connection id, name or instance id). */
export async function connectionOn(t: TestInstance, ref: string): Promise<ConnectionRecord> {
  const res = await t.api<ConnectionRecord>('GET', `/federation/connections/${ref}`);
  if (res.status !== 200) throw new Error(`GET connection answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Spawns a `command` agent on the spoke through the hub's API. */
export async function spawnRemote(hub: TestInstance, script: string, extra: Record<string, unknown> = {}): Promise<{ status: number; body: PublicAgent }> {
  return hub.api<PublicAgent>('POST', '/agents', {
    peer: 'spoke', repo: 'web', taskId: 'T1', prompt: 'remote work', runtime: { kind: 'command', argv: ['sh', '-c', script] }, ...extra,
  });
}

export interface RawAnswer {
  status: number;
  /** The RESPONSE envelope, or a plain `{error}` body for refusals before the envelope parsed. */
  body: { body?: { ok: boolean; result?: unknown; error?: { code: string; message: string } }; error?: { code: string } };
  signature: string | null;
  /** The error code, wherever the answer carries it. */
  code: string | undefined;
}

/** POSTs raw bytes to `federation/incoming/<kind>` of `t`, as a forging peer would. */
export async function postRaw(t: TestInstance, kind: string, bytes: Buffer | string, signature?: string): Promise<RawAnswer> {
  const res = await fetch(`${t.url}/api/v1/federation/incoming/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'mosaic-signature': signature }) },
    body: bytes,
  });
  const text = await res.text();
  let body: RawAnswer['body'] = {};
  try {
    body = JSON.parse(text) as RawAnswer['body'];
  } catch {
    // left empty: the status says enough
  }
  return { status: res.status, body, signature: res.headers.get('mosaic-signature'), code: body.body?.error?.code ?? body.error?.code };
}
