import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { invalid } from './errors.js';

/** `auto`: human-readable log lines when stdout is a terminal, JSON lines otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Everything an instance is configured with. Env vars override `$MOSAIC_HOME/config.json`. */
export interface Config {
  home: string;
  host: string;
  port: number;
  /** The URL peers use to reach this instance. */
  url: string;
  /** Host names the dashboard, /mcp and /a2a answer to besides MOSAIC_HOST, localhost, 127.0.0.1 and the URL's host. */
  allowedHosts: string[];
  name: string;
  maxAgents: number;
  maxQueue: number;
  claudeBin: string;
  /** The Codex CLI (`codex`), Gemini CLI (`gemini`) and opencode (`opencode`) executables: names on PATH or paths. */
  codexBin: string;
  geminiBin: string;
  opencodeBin: string;
  /** A stream runtime that prints no event of its format within this many seconds is ended `failed/runtime_silent`. */
  runtimeFirstEventS: number;
  /** Server env vars passed to agents although they look secret, e.g. ANTHROPIC_API_KEY. */
  forwardEnv: string[];
  killGraceMs: number;
  logLevel: string;
  /** `auto` (human-readable on a terminal, JSON otherwise), `json` or `pretty`. */
  logFormat: LogFormat;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** How often running agents' exit files are checked, in ms. */
  pollMs: number;
  /** Federation: signed messages accepted per source address per minute, checked before any parsing. */
  fedRatePerIp: number;
  /** Federation: messages accepted per verified peer per minute. */
  fedRatePerPeer: number;
  /** Federation: how long one outbound request may take, in ms. */
  fedTimeoutMs: number;
  /** Federation: further attempts of an outbound request after a network error, timeout or 5xx. */
  fedRetries: number;
  /** Federation: longest wait between two attempts to deliver queued events to a peer, in ms. */
  fedRetryMaxMs: number;
  /** Federation: how long a connection request waits for the admin before it expires, in seconds. */
  fedPendingTtlS: number;
  /** Federation: connection requests waiting at once from one source address. */
  fedPendingPerAddress: number;
  /** Federation: a peer not heard from for this long (or that cannot be reached) has its mirrored agents marked stale, in seconds. */
  fedStaleS: number;
  /** Largest git bundle an agent's work may travel in between instances (`agent.bundle`, `fetch`), in bytes. */
  bundleMaxBytes: number;
  /** HTTP: time to receive a whole request before 408 and close, in ms (long answers such as SSE are not cut). */
  requestTimeoutMs: number;
  /** HTTP: time to receive a request's headers, in ms. */
  headersTimeoutMs: number;
  /** HTTP: an idle keep-alive connection is closed after this, in ms. */
  keepAliveTimeoutMs: number;
  /** HTTP: open connections from one source address; more are closed when accepted. */
  maxConnectionsPerAddress: number;
  /** Events, tracked federation messages and settled outbox rows older than this many days are pruned. */
  retentionDays: number;
  /** At most this many rows of each of those tables (and of the replay cache) are kept; the oldest go first. */
  retentionMaxRows: number;
  /** SSE: unread output one event-stream client may hold in server memory before it is dropped, in bytes. */
  sseMaxBufferBytes: number;
  /** SSE: how long a stream whose client is not reading may stay backed up before the client is dropped, in ms. */
  sseStallMs: number;
  /** Dashboard: how long a login code from `mosaic dashboard` may be exchanged, in ms (tests shorten it). */
  loginCodeTtlMs: number;
  /** `auto` (sandbox agents where possible), `required` (never run one unsandboxed) or `off` (local agents unsandboxed). */
  sandbox: 'auto' | 'required' | 'off';
  /** The bubblewrap executable: a name looked up on PATH, or a path. */
  bwrapPath: string;
  /** When Mosaic runs as root: the unprivileged user (name, uid or uid:gid) sandboxed agents and setups run as. */
  agentUser: string;
  /** A postgres:// URL: the store is that PostgreSQL database. Unset: the embedded SQLite file in the home. */
  databaseUrl: string | undefined;
  /** PostgreSQL: connections this process opens at most. */
  databasePool: number;
  /** With databaseUrl: this server is a node of the cluster on that database (DESIGN §7). Never shown. */
  clusterSecret: string | undefined;
  /** The node's name in its cluster (default the host name). */
  nodeName: string;
  /** The URL other nodes reach this node at (default the URL this server listens at). */
  nodeUrl: string | undefined;
  /** A node silent this long is lost (seconds). */
  nodeLeaseS: number;
  /** Repositories shared by URL: a running agent's worktree is pushed to the remote this often (seconds, issue 21). */
  checkpointS: number;
  /** Repositories shared by URL: a fetch (or first clone) slower than this fails the spawn `repo_fetch_failed` (seconds). */
  repoFetchTimeoutS: number;
  /** Fleet: an agent that failed on its runtime's rate limit is retried once after the reset (default true). */
  rateLimitRetry: boolean;
  /** As root: agents' worktrees are overlays on one shared checkout per base commit (git/layered.ts); false: full checkouts. */
  layeredWorktrees: boolean;
  /** `GET /metrics` answers without the admin token (default false). */
  metricsPublic: boolean;
}

type Env = Record<string, string | undefined>;

const SETTINGS = {
  host: 'MOSAIC_HOST',
  port: 'MOSAIC_PORT',
  url: 'MOSAIC_URL',
  allowedHosts: 'MOSAIC_ALLOWED_HOSTS',
  name: 'MOSAIC_NAME',
  maxAgents: 'MOSAIC_MAX_AGENTS',
  maxQueue: 'MOSAIC_MAX_QUEUE',
  claudeBin: 'MOSAIC_CLAUDE_BIN',
  codexBin: 'MOSAIC_CODEX_BIN',
  geminiBin: 'MOSAIC_GEMINI_BIN',
  opencodeBin: 'MOSAIC_OPENCODE_BIN',
  runtimeFirstEventS: 'MOSAIC_RUNTIME_FIRST_EVENT_S',
  forwardEnv: 'MOSAIC_FORWARD_ENV',
  killGraceMs: 'MOSAIC_KILL_GRACE_MS',
  logLevel: 'MOSAIC_LOG_LEVEL',
  logFormat: 'MOSAIC_LOG_FORMAT',
  tlsCert: 'MOSAIC_TLS_CERT',
  tlsKey: 'MOSAIC_TLS_KEY',
  pollMs: 'MOSAIC_POLL_MS',
  fedRatePerIp: 'MOSAIC_FED_RATE_PER_IP',
  fedRatePerPeer: 'MOSAIC_FED_RATE_PER_PEER',
  fedTimeoutMs: 'MOSAIC_FED_TIMEOUT_MS',
  fedRetries: 'MOSAIC_FED_RETRIES',
  fedRetryMaxMs: 'MOSAIC_FED_RETRY_MAX_MS',
  fedPendingTtlS: 'MOSAIC_FED_PENDING_TTL_S',
  fedPendingPerAddress: 'MOSAIC_FED_PENDING_PER_ADDRESS',
  sandbox: 'MOSAIC_SANDBOX',
  bwrapPath: 'MOSAIC_BWRAP',
  agentUser: 'MOSAIC_AGENT_USER',
  bundleMaxBytes: 'MOSAIC_BUNDLE_MAX_BYTES',
  requestTimeoutMs: 'MOSAIC_REQUEST_TIMEOUT_MS',
  headersTimeoutMs: 'MOSAIC_HEADERS_TIMEOUT_MS',
  keepAliveTimeoutMs: 'MOSAIC_KEEP_ALIVE_TIMEOUT_MS',
  maxConnectionsPerAddress: 'MOSAIC_MAX_CONNECTIONS_PER_ADDRESS',
  retentionDays: 'MOSAIC_RETENTION_DAYS',
  retentionMaxRows: 'MOSAIC_RETENTION_MAX_ROWS',
  sseMaxBufferBytes: 'MOSAIC_SSE_MAX_BUFFER_BYTES',
  sseStallMs: 'MOSAIC_SSE_STALL_MS',
  fedStaleS: 'MOSAIC_FED_STALE_S',
  databaseUrl: 'MOSAIC_DATABASE_URL',
  databasePool: 'MOSAIC_DATABASE_POOL',
  clusterSecret: 'MOSAIC_CLUSTER_SECRET',
  nodeName: 'MOSAIC_NODE_NAME',
  nodeUrl: 'MOSAIC_NODE_URL',
  nodeLeaseS: 'MOSAIC_NODE_LEASE_S',
  checkpointS: 'MOSAIC_CHECKPOINT_S',
  repoFetchTimeoutS: 'MOSAIC_REPO_FETCH_TIMEOUT_S',
  rateLimitRetry: 'MOSAIC_RATE_LIMIT_RETRY',
  layeredWorktrees: 'MOSAIC_LAYERED_WORKTREES',
  metricsPublic: 'MOSAIC_METRICS_PUBLIC',
} as const;

type SettingKey = keyof typeof SETTINGS;

export function resolveHome(env: Env = process.env): string {
  return resolve(env.MOSAIC_HOME ?? join(homedir(), '.mosaic'));
}

function readConfigFile(home: string): Partial<Record<SettingKey, unknown>> {
  let text: string;
  try {
    text = readFileSync(join(home, 'config.json'), 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Partial<Record<SettingKey, unknown>>;
  } catch (err) {
    throw invalid('invalid_config', `${join(home, 'config.json')} is not a JSON object: ${(err as Error).message}`);
  }
}

function integer(key: SettingKey, raw: unknown, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw invalid('invalid_config', `${SETTINGS[key]} must be an integer from ${min} to ${max}, got ${String(raw)}`);
  }
  return n;
}

function text(raw: unknown, fallback: string): string;
function text(raw: unknown, fallback: undefined): string | undefined;
function text(raw: unknown, fallback: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return fallback;
  return String(raw);
}

/** A comma-separated env value or a JSON array from config.json. */
function list(raw: unknown): string[] {
  if (raw === undefined || raw === '') return [];
  const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
  return items.map((item) => item.trim()).filter(Boolean);
}

/** `true`/`false` (also 1/0, yes/no) from env, or a JSON boolean from config.json. */
function bool(key: SettingKey, raw: unknown, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === true || raw === false) return raw;
  const value = String(raw).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw invalid('invalid_config', `${SETTINGS[key]} must be true or false, got ${String(raw)}`);
}

function sandboxMode(raw: unknown): Config['sandbox'] {
  if (raw === undefined || raw === '') return 'auto';
  if (raw === 'auto' || raw === 'required' || raw === 'off') return raw;
  throw invalid('invalid_config', `${SETTINGS.sandbox} must be auto, required or off, got ${String(raw)}`);
}

function logFormat(raw: unknown): LogFormat {
  if (raw === undefined || raw === '') return 'auto';
  if ((LOG_FORMATS as readonly unknown[]).includes(raw)) return raw as LogFormat;
  throw invalid('invalid_config', `${SETTINGS.logFormat} must be ${LOG_FORMATS.join(', ')}, got ${String(raw)}`);
}

function databaseUrl(raw: unknown): string | undefined {
  const value = text(raw, undefined);
  if (value === undefined || value === '') return undefined;
  // Never echo the value: it may hold a password.
  if (!/^postgres(ql)?:\/\/./i.test(value)) throw invalid('invalid_config', `${SETTINGS.databaseUrl} must be a postgres:// URL`);
  return value;
}

/** The URL of an instance listening on `host:port`, used when no URL is configured. */
export function defaultUrl(listen: Pick<Config, 'host' | 'port' | 'tlsCert' | 'tlsKey'>): string {
  const scheme = listen.tlsCert && listen.tlsKey ? 'https' : 'http';
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return `${scheme}://${host}:${listen.port}`;
}

/** Loads the configuration; `overrides` (used by tests and the demo) win over everything. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const home = overrides.home ?? resolveHome(env);
  const file = readConfigFile(home);
  const pick = (key: SettingKey): unknown => env[SETTINGS[key]] ?? file[key];

  const host = overrides.host ?? text(pick('host'), '127.0.0.1');
  const port = overrides.port ?? integer('port', pick('port'), 7420, 0, 65535);
  const tlsCert = overrides.tlsCert ?? text(pick('tlsCert'), undefined);
  const tlsKey = overrides.tlsKey ?? text(pick('tlsKey'), undefined);
  const config: Config = {
    home,
    host,
    port,
    // Derived from the listen address after overrides, so an overridden port is the one peers are told.
    url: text(pick('url'), defaultUrl({ host, port, tlsCert, tlsKey })),
    allowedHosts: list(pick('allowedHosts')),
    name: text(pick('name'), 'mosaic'),
    maxAgents: integer('maxAgents', pick('maxAgents'), 8, 1, 10_000),
    maxQueue: integer('maxQueue', pick('maxQueue'), 1000, 0, 1_000_000),
    claudeBin: text(pick('claudeBin'), 'claude'),
    codexBin: text(pick('codexBin'), 'codex'),
    geminiBin: text(pick('geminiBin'), 'gemini'),
    opencodeBin: text(pick('opencodeBin'), 'opencode'),
    runtimeFirstEventS: integer('runtimeFirstEventS', pick('runtimeFirstEventS'), 30, 1, 3600),
    forwardEnv: list(pick('forwardEnv')),
    killGraceMs: integer('killGraceMs', pick('killGraceMs'), 5000, 0, 600_000),
    logLevel: text(pick('logLevel'), 'info'),
    logFormat: logFormat(pick('logFormat')),
    tlsCert,
    tlsKey,
    pollMs: integer('pollMs', pick('pollMs'), 200, 10, 60_000),
    fedRatePerIp: integer('fedRatePerIp', pick('fedRatePerIp'), 1200, 1, 1_000_000),
    fedRatePerPeer: integer('fedRatePerPeer', pick('fedRatePerPeer'), 600, 1, 1_000_000),
    fedTimeoutMs: integer('fedTimeoutMs', pick('fedTimeoutMs'), 10_000, 100, 600_000),
    fedRetries: integer('fedRetries', pick('fedRetries'), 2, 0, 20),
    fedRetryMaxMs: integer('fedRetryMaxMs', pick('fedRetryMaxMs'), 30_000, 10, 3_600_000),
    fedPendingTtlS: integer('fedPendingTtlS', pick('fedPendingTtlS'), 24 * 3600, 1, 365 * 24 * 3600),
    fedPendingPerAddress: integer('fedPendingPerAddress', pick('fedPendingPerAddress'), 5, 1, 10_000),
    fedStaleS: integer('fedStaleS', pick('fedStaleS'), 120, 1, 24 * 3600),
    bundleMaxBytes: integer('bundleMaxBytes', pick('bundleMaxBytes'), 50 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    requestTimeoutMs: integer('requestTimeoutMs', pick('requestTimeoutMs'), 30_000, 500, 3_600_000),
    headersTimeoutMs: integer('headersTimeoutMs', pick('headersTimeoutMs'), 10_000, 500, 3_600_000),
    keepAliveTimeoutMs: integer('keepAliveTimeoutMs', pick('keepAliveTimeoutMs'), 5_000, 100, 3_600_000),
    maxConnectionsPerAddress: integer('maxConnectionsPerAddress', pick('maxConnectionsPerAddress'), 64, 1, 1_000_000),
    retentionDays: integer('retentionDays', pick('retentionDays'), 7, 1, 36_500),
    retentionMaxRows: integer('retentionMaxRows', pick('retentionMaxRows'), 100_000, 100, 100_000_000),
    sseMaxBufferBytes: integer('sseMaxBufferBytes', pick('sseMaxBufferBytes'), 1024 * 1024, 16 * 1024, 256 * 1024 * 1024),
    sseStallMs: integer('sseStallMs', pick('sseStallMs'), 30_000, 100, 3_600_000),
    loginCodeTtlMs: 2 * 60_000,
    sandbox: sandboxMode(pick('sandbox')),
    bwrapPath: text(pick('bwrapPath'), 'bwrap'),
    agentUser: text(pick('agentUser'), 'nobody'),
    databaseUrl: databaseUrl(pick('databaseUrl')),
    databasePool: integer('databasePool', pick('databasePool'), 10, 1, 1000),
    clusterSecret: text(pick('clusterSecret'), undefined) || undefined,
    nodeName: text(pick('nodeName'), hostname()),
    nodeUrl: text(pick('nodeUrl'), undefined),
    nodeLeaseS: integer('nodeLeaseS', pick('nodeLeaseS'), 30, 1, 3600),
    checkpointS: integer('checkpointS', pick('checkpointS'), 300, 1, 86_400),
    repoFetchTimeoutS: integer('repoFetchTimeoutS', pick('repoFetchTimeoutS'), 120, 1, 3600),
    rateLimitRetry: bool('rateLimitRetry', pick('rateLimitRetry'), true),
    layeredWorktrees: bool('layeredWorktrees', pick('layeredWorktrees'), true),
    metricsPublic: bool('metricsPublic', pick('metricsPublic'), false),
  };
  return { ...config, ...overrides };
}
