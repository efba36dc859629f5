/**
 * The environment an agent runs with. It is built from an allowlist, never
 * by removing known-bad names from the server's environment: the server may
 * hold the admin token, the instance key's path, cloud credentials and
 * whatever its own launcher exported, and an agent runs code chosen by a
 * prompt (possibly a remote peer's prompt).
 */
import { invalid } from '../../core/errors.js';
import type { AgentType } from '../types.js';

/**
 * Copied from the server's environment when present:
 * - identity, locale, terminal and time zone (PATH, HOME, USER, LOGNAME,
 *   SHELL, LANG, LANGUAGE, LC_*, TERM, TZ, TMPDIR, NO_COLOR): what
 *   command-line tools expect from any login; HOME also carries the user's
 *   claude login (~/.claude) and git identity (~/.gitconfig).
 * - XDG base dirs and CLAUDE_CONFIG_DIR: where that configuration lives
 *   when it is not under HOME.
 * - proxy settings and NODE_EXTRA_CA_CERTS: without them the claude CLI, npm
 *   and git cannot reach the network from behind a corporate proxy; they
 *   describe the machine's network, not Mosaic's secrets.
 * Deliberately left out: NODE_OPTIONS (the server's own loaders and
 * --inspect flags would follow every agent, and parallel inspectors collide),
 * npm_* (set by `npm start` for the server's own script and would steer the
 * agent's npm), GIT_* (GIT_DIR and friends would point the agent's git at
 * another repository), SSH_AUTH_SOCK (agents commit locally and never need
 * the user's keys). A user who needs one of these passes it in `env`.
 */
const ALLOWED_NAMES = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TERM', 'TZ', 'TMPDIR', 'NO_COLOR',
  'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR',
  'CLAUDE_CONFIG_DIR',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
  'NODE_EXTRA_CA_CERTS',
]);
const ALLOWED_PREFIXES = ['LC_'];

/** Never copied from the server, whatever the allowlist says. */
const SENSITIVE = /TOKEN|SECRET|KEY|PASSWORD|PASSWD|CREDENTIAL/i;
const RESERVED_PREFIX = /^MOSAIC_/i;
const RESERVED_NAMES = new Set(['PORT']);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Linux refuses to exec when one argv or environment string exceeds
 * MAX_ARG_STRLEN (32 pages = 128 KiB, counting `NAME=` and the NUL), and the
 * failure (E2BIG) would only show at spawn time. Checked here instead.
 */
export const MAX_ARG_BYTES = 128 * 1024 - 1;

export interface AgentEnvironmentExtra {
  agentId: string;
  taskId: string;
  prompt: string;
  /** The agent's reserved TCP port (0 only when validating a request before a port exists). */
  port: number;
  type: AgentType;
  /** The spawn request's `env`: may set anything but MOSAIC_* and PORT, including secrets. */
  userEnv?: Record<string, string>;
  /**
   * Names an operator chose to pass through from the server's environment
   * even though they look sensitive (e.g. ANTHROPIC_API_KEY). MOSAIC_* and
   * PORT can never be passed.
   */
  forward?: readonly string[];
}

function isAllowed(name: string): boolean {
  if (RESERVED_PREFIX.test(name) || SENSITIVE.test(name)) return false;
  return ALLOWED_NAMES.has(name) || ALLOWED_PREFIXES.some((p) => name.startsWith(p));
}

function isReserved(name: string): boolean {
  return RESERVED_PREFIX.test(name) || RESERVED_NAMES.has(name.toUpperCase());
}

/** Throws `invalid_env` (400) naming the key when a user-supplied variable is not acceptable. */
export function validateUserEnv(userEnv: unknown): Record<string, string> {
  if (userEnv === undefined) return {};
  if (typeof userEnv !== 'object' || userEnv === null || Array.isArray(userEnv)) {
    throw invalid('invalid_env', 'env must be an object of string values', { field: 'env' });
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(userEnv as Record<string, unknown>)) {
    if (!NAME_RE.test(key)) {
      throw invalid('invalid_env', `env key ${JSON.stringify(key)} must match ${NAME_RE.source}`, { field: 'env', key });
    }
    if (isReserved(key)) {
      throw invalid('invalid_env', `env key ${key} is reserved for Mosaic (MOSAIC_* and PORT are set by Mosaic)`, { field: 'env', key });
    }
    if (typeof value !== 'string') {
      throw invalid('invalid_env', `env.${key} must be a string`, { field: 'env', key });
    }
    if (value.includes('\0')) {
      throw invalid('invalid_env', `env.${key} must not contain NUL characters`, { field: 'env', key });
    }
    if (Buffer.byteLength(key) + 1 + Buffer.byteLength(value) > MAX_ARG_BYTES) {
      throw invalid('invalid_env', `env.${key} is too large (at most ${MAX_ARG_BYTES} bytes with its name)`, { field: 'env', key });
    }
    out[key] = value;
  }
  return out;
}

/**
 * The complete environment of an agent: the allowlisted part of `base`, then
 * the forwarded names, then the user's `env` (validated; it may override
 * PATH and the like), then Mosaic's own variables, which nothing overrides.
 */
export function agentEnvironment(base: NodeJS.ProcessEnv, extra: AgentEnvironmentExtra): Record<string, string> {
  const user = validateUserEnv(extra.userEnv);
  if (!Number.isInteger(extra.port) || extra.port < 0 || extra.port > 65535) {
    throw invalid('invalid_port', `port must be an integer in 0..65535, got ${String(extra.port)}`);
  }
  if (extra.prompt.includes('\0')) throw invalid('invalid_prompt', 'prompt must not contain NUL characters', { field: 'prompt' });
  if (Buffer.byteLength('MOSAIC_PROMPT=') + Buffer.byteLength(extra.prompt) > MAX_ARG_BYTES) {
    throw invalid('invalid_prompt', `prompt is too large to pass to an agent (at most ${MAX_ARG_BYTES - 14} bytes)`, { field: 'prompt' });
  }

  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && isAllowed(name)) env[name] = value;
  }
  for (const name of extra.forward ?? []) {
    const value = base[name];
    if (value !== undefined && NAME_RE.test(name) && !isReserved(name)) env[name] = value;
  }
  Object.assign(env, user);
  env.MOSAIC_AGENT_ID = extra.agentId;
  env.MOSAIC_TASK_ID = extra.taskId;
  env.MOSAIC_PROMPT = extra.prompt;
  env.MOSAIC_AGENT_TYPE = extra.type;
  env.PORT = String(extra.port);
  env.MOSAIC_AGENT_PORT = String(extra.port);
  return env;
}
