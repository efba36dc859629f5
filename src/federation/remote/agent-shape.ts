import { AGENT_STATES, AGENT_TYPES, type PublicAgent } from '../../agents/index.js';
import { isAgentId, isValidName } from '../../core/ids.js';
import { parseTimings } from '../../core/agent-model.js';
import { isPlainObject, ProtocolError } from '../protocol/index.js';

const bad = (field: string, why: string): ProtocolError => new ProtocolError(400, 'invalid_agent', `agent.${field} ${why}`, { field: `agent.${field}` });

function string(o: Record<string, unknown>, key: string, max = 4096): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > max) throw bad(key, 'must be a string');
  return v;
}

function name(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (!isValidName(v)) throw bad(key, 'must be a name');
  return v;
}

function intOrNull(o: Record<string, unknown>, key: string): number | null {
  const v = o[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad(key, 'must be an integer or null');
  return v;
}

function int(o: Record<string, unknown>, key: string): number {
  const v = intOrNull(o, key);
  if (v === null) throw bad(key, 'must be an integer');
  return v;
}

function objectOrNull<T>(o: Record<string, unknown>, key: string): T | null {
  const v = o[key];
  if (v === null || v === undefined) return null;
  if (!isPlainObject(v)) throw bad(key, 'must be an object or null');
  return v as T;
}

/**
 * A link to an earlier agent (`retryOf`, `followUpOf`): rebuilt from its
 * known fields, the id checked as an agent id, since the dashboard links to
 * it and lists it under that agent; anything else is dropped (null).
 */
function link(o: Record<string, unknown>, key: string): PublicAgent['followUpOf'] {
  const v = o[key];
  if (!isPlainObject(v) || !isAgentId(v.agentId)) return null;
  const text = (x: unknown) => (typeof x === 'string' && x.length <= 200 ? x : null);
  return { agentId: v.agentId, continue: v.continue === true, startPoint: text(v.startPoint), resumed: text(v.resumed) };
}

/** A peer's `waitingFor`: rebuilt from its known fields (names bounded), anything else dropped (null). */
function parseWaiting(v: unknown): PublicAgent['waitingFor'] {
  if (!isPlainObject(v) || typeof v.resetsAt !== 'number' || !Number.isSafeInteger(v.resetsAt)) return null;
  const text = (x: unknown) => (typeof x === 'string' && x.length > 0 && x.length <= 200 ? x : null);
  const scope = text(v.scope);
  const runtime = text(v.runtime);
  if (v.reason === 'budget' && scope !== null) return { reason: 'budget', scope, resetsAt: v.resetsAt };
  if (v.reason === 'rate_limit' && runtime !== null) return { reason: 'rate_limit', runtime, resetsAt: v.resetsAt };
  return null;
}

function budgetOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

function parseLimits(v: unknown): PublicAgent['limits'] {
  if (!isPlainObject(v)) return null;
  return { shell: v.shell === true, network: v.network === 'none' ? 'none' : 'host', projectConfig: v.projectConfig === true };
}

/**
 * An agent record as a peer reports it, checked field by field and rebuilt
 * from the known fields only: what a peer sends is stored and shown by this
 * instance's API, so it must have the shape the API promises and must not
 * smuggle in fields this instance sets itself (`instance`, `peer`).
 */
export function parseRemoteAgent(value: unknown): PublicAgent {
  if (!isPlainObject(value)) throw new ProtocolError(400, 'invalid_agent', 'agent must be an object', { field: 'agent' });
  const o = value;
  const id = o.id;
  if (!isAgentId(id)) throw bad('id', 'must be an agent id (lowercase letters and digits)');
  const state = o.state;
  if (!(AGENT_STATES as readonly unknown[]).includes(state)) throw bad('state', `must be one of ${AGENT_STATES.join(', ')}`);
  const type = o.type;
  if (!(AGENT_TYPES as readonly unknown[]).includes(type)) throw bad('type', `must be one of ${AGENT_TYPES.join(', ')}`);
  const runtime = objectOrNull<PublicAgent['runtime']>(o, 'runtime');
  if (!runtime || (runtime.kind !== 'claude' && runtime.kind !== 'command')) throw bad('runtime', 'must be a runtime object');
  if (typeof o.killRequested !== 'boolean' && o.killRequested !== undefined) throw bad('killRequested', 'must be a boolean');
  const idempotencyKey = o.idempotencyKey;
  if (idempotencyKey !== null && idempotencyKey !== undefined && typeof idempotencyKey !== 'string') throw bad('idempotencyKey', 'must be a string or null');
  return {
    id,
    state: state as PublicAgent['state'],
    taskId: name(o, 'taskId'),
    type: type as PublicAgent['type'],
    repo: name(o, 'repo'),
    branch: string(o, 'branch', 300),
    baseBranch: string(o, 'baseBranch', 300),
    worktreePath: string(o, 'worktreePath'),
    pooled: o.pooled === true,
    runtime,
    prompt: string(o, 'prompt', 200_000),
    priority: int(o, 'priority'),
    timeoutS: intOrNull(o, 'timeoutS'),
    budgetUsd: budgetOrNull(o.budgetUsd),
    waitingFor: parseWaiting(o.waitingFor),
    origin: string(o, 'origin', 64),
    idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : null,
    pid: intOrNull(o, 'pid'),
    pgid: intOrNull(o, 'pgid'),
    port: intOrNull(o, 'port'),
    exitCode: intOrNull(o, 'exitCode'),
    error: objectOrNull(o, 'error'),
    result: objectOrNull(o, 'result'),
    progress: objectOrNull(o, 'progress'),
    killRequested: o.killRequested === true,
    landed: objectOrNull(o, 'landed'),
    retryOf: objectOrNull(o, 'retryOf'),
    followUpOf: link(o, 'followUpOf'),
    sandbox: typeof o.sandbox === 'string' ? o.sandbox.slice(0, 64) : null,
    limits: parseLimits(o.limits),
    timings: parseTimings(o.timings),
    createdAt: int(o, 'createdAt'),
    startedAt: intOrNull(o, 'startedAt'),
    endedAt: intOrNull(o, 'endedAt'),
    updatedAt: int(o, 'updatedAt'),
  };
}
