import { AGENT_TYPES, PERMISSION_MODES, type AgentType, type RuntimeSpec, type SpawnRequest } from '../../agents/index.js';
import { isPlainObject, ProtocolError, type JsonObject } from '../protocol/index.js';

/**
 * A peer's `agent.spawn` args, checked as strictly as the HTTP API checks a
 * local spawn (same fields and limits as http/schemas.ts spawnBody), minus
 * `peer`: nothing is forwarded onward. The agent service then checks the
 * meaning (names, repository, env keys) as for any spawn.
 */
export function parseSpawnArgs(args: JsonObject): SpawnRequest {
  const fields = ['taskId', 'type', 'repo', 'baseBranch', 'prompt', 'runtime', 'priority', 'timeoutS', 'env', 'budgetUsd', 'idempotencyKey'];
  for (const key of Object.keys(args)) {
    if (key === 'peer') throw bad('peer', 'agent.spawn from a peer must not carry peer');
    if (!fields.includes(key)) throw bad(key, `unknown field '${key}'`);
  }
  const request: SpawnRequest = {
    taskId: str(args.taskId, 'taskId', 64),
    repo: str(args.repo, 'repo', 64),
    prompt: str(args.prompt, 'prompt', 130_048),
  };
  if (args.type !== undefined) {
    if (!(AGENT_TYPES as readonly unknown[]).includes(args.type)) throw bad('type', `type must be one of ${AGENT_TYPES.join(', ')}`);
    request.type = args.type as AgentType;
  }
  if (args.baseBranch !== undefined) request.baseBranch = str(args.baseBranch, 'baseBranch', 255);
  if (args.runtime !== undefined) request.runtime = runtime(args.runtime);
  if (args.priority !== undefined) request.priority = int(args.priority, 'priority', 1, 10);
  if (args.timeoutS !== undefined) request.timeoutS = int(args.timeoutS, 'timeoutS', 1, 7 * 24 * 3600);
  if (args.env !== undefined) request.env = env(args.env);
  if (args.budgetUsd !== undefined) {
    const usd = args.budgetUsd;
    if (typeof usd !== 'number' || !Number.isFinite(usd) || usd <= 0 || usd > 1_000_000) throw bad('budgetUsd', 'budgetUsd must be a number above 0 and at most 1000000');
    request.budgetUsd = usd;
  }
  if (args.idempotencyKey !== undefined) request.idempotencyKey = str(args.idempotencyKey, 'idempotencyKey', 200);
  return request;
}

function bad(field: string, message: string): ProtocolError {
  return new ProtocolError(400, 'invalid_args', message, { field: `args.${field}` });
}

function str(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw bad(field, `${field} must be a string of 1..${max} characters`);
  return value;
}

function int(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw bad(field, `${field} must be an integer from ${min} to ${max}`);
  return value;
}

function runtime(value: unknown): RuntimeSpec {
  if (!isPlainObject(value)) throw bad('runtime', 'runtime must be an object');
  const headless = value.kind === 'codex' || value.kind === 'gemini' || value.kind === 'opencode';
  const allowed = value.kind === 'command' ? ['kind', 'argv'] : headless ? ['kind', 'model'] : ['kind', 'model', 'maxTurns', 'permissionMode'];
  for (const key of Object.keys(value)) if (!allowed.includes(key)) throw bad(`runtime.${key}`, `unknown field 'runtime.${key}'`);
  if (value.kind === 'command') {
    const argv = value.argv;
    if (!Array.isArray(argv) || argv.length < 1 || argv.length > 1000 || argv.some((a) => typeof a !== 'string' || a.length === 0 || a.length > 32768)) {
      throw bad('runtime.argv', 'runtime.argv must be 1..1000 non-empty strings');
    }
    return { kind: 'command', argv: argv as string[] };
  }
  if (value.kind === 'codex' || value.kind === 'gemini' || value.kind === 'opencode') {
    return value.model === undefined ? { kind: value.kind } : { kind: value.kind, model: str(value.model, 'runtime.model', 128) };
  }
  if (value.kind !== 'claude') throw bad('runtime.kind', "runtime.kind must be 'claude', 'codex', 'gemini', 'opencode' or 'command'");
  const spec: RuntimeSpec = { kind: 'claude' };
  if (value.model !== undefined) spec.model = str(value.model, 'runtime.model', 128);
  if (value.maxTurns !== undefined) spec.maxTurns = int(value.maxTurns, 'runtime.maxTurns', 1, 10_000);
  if (value.permissionMode !== undefined) {
    const modes: readonly string[] = PERMISSION_MODES;
    if (!modes.includes(value.permissionMode as string)) throw bad('runtime.permissionMode', `runtime.permissionMode must be one of ${modes.join(', ')}`);
    spec.permissionMode = value.permissionMode as string;
  }
  return spec;
}

function env(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) throw bad('env', 'env must be an object of strings');
  const entries = Object.entries(value);
  if (entries.length > 100) throw bad('env', 'env may have at most 100 entries');
  for (const [key, v] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || key.length > 128) throw bad(`env.${key}`, `env key '${key}' is not a valid variable name`);
    if (typeof v !== 'string' || v.length > 32768) throw bad(`env.${key}`, `env.${key} must be a string of at most 32768 characters`);
  }
  return value as Record<string, string>;
}
