import type { AgentRecord } from '../../core/agent-model.js';
import { cutText, PROMPT_ECHO_CHARS } from '../../core/text-bounds.js';
import type { AgentsTable } from './schema.js';

/**
 * How a field is stored: as is, as JSON text (SQL NULL for null), as JSON
 * text that is `{}` when absent, or as 0/1.
 */
type Kind = 'value' | 'json' | 'map' | 'bool';

/**
 * The single map between AgentRecord fields and `agents` columns. `satisfies`
 * makes the compiler reject a record field without a column (or a stray one).
 */
const FIELDS = {
  id: ['id', 'value'],
  state: ['state', 'value'],
  taskId: ['task_id', 'value'],
  type: ['type', 'value'],
  repo: ['repo', 'value'],
  branch: ['branch', 'value'],
  baseBranch: ['base_branch', 'value'],
  worktreePath: ['worktree_path', 'value'],
  pooled: ['pooled', 'bool'],
  runtime: ['runtime', 'json'],
  prompt: ['prompt', 'value'],
  env: ['env', 'map'],
  priority: ['priority', 'value'],
  timeoutS: ['timeout_s', 'value'],
  budgetUsd: ['budget_usd', 'value'],
  waitingFor: ['waiting_for', 'json'],
  origin: ['origin', 'value'],
  idempotencyKey: ['idempotency_key', 'value'],
  pid: ['pid', 'value'],
  pgid: ['pgid', 'value'],
  port: ['port', 'value'],
  exitCode: ['exit_code', 'value'],
  error: ['error', 'json'],
  result: ['result', 'json'],
  progress: ['progress', 'json'],
  killRequested: ['kill_requested', 'bool'],
  landed: ['landed', 'json'],
  retryOf: ['retry_of', 'json'],
  followUpOf: ['follow_up_of', 'json'],
  sandbox: ['sandbox', 'value'],
  limits: ['limits', 'json'],
  timings: ['timings', 'json'],
  createdAt: ['created_at', 'value'],
  startedAt: ['started_at', 'value'],
  endedAt: ['ended_at', 'value'],
  updatedAt: ['updated_at', 'value'],
  node: ['node', 'value'],
  retryOnNodeLost: ['retry_on_node_lost', 'bool'],
} as const satisfies Record<keyof AgentRecord, readonly [string, Kind]>;

type Field = keyof typeof FIELDS;
const ENTRIES = Object.entries(FIELDS) as Array<[Field, readonly [string, Kind]]>;

type SqlValue = string | number | null;
/** The agents table's columns (all but rowid, which the database gives). */
export type AgentRow = Omit<AgentsTable, 'rowid' | 'node_epoch'>;

export const AGENT_COLUMNS: readonly string[] = ENTRIES.map(([, [column]]) => column);

export function agentToRow(agent: AgentRecord): AgentRow {
  const row: Record<string, SqlValue> = {};
  for (const [field, [column, kind]] of ENTRIES) {
    const value: unknown = agent[field];
    if (kind === 'bool') row[column] = value === true ? 1 : 0;
    else if (kind === 'json') row[column] = value === null || value === undefined ? null : JSON.stringify(value);
    else if (kind === 'map') row[column] = JSON.stringify(value ?? {});
    else row[column] = value === undefined ? null : (value as SqlValue);
  }
  // Every column was set from the field the map assigns it (the map covers every field, see FIELDS).
  return row as unknown as AgentRow;
}

export function rowToAgent(row: AgentRow): AgentRecord {
  const out: Record<string, unknown> = {};
  const columns = row as unknown as Record<string, SqlValue | undefined>;
  for (const [field, [column, kind]] of ENTRIES) {
    const value = columns[column] ?? null;
    if (kind === 'bool') out[field] = value === 1;
    else if (kind === 'json' || kind === 'map') out[field] = value === null ? null : (JSON.parse(String(value)) as unknown);
    else out[field] = value;
  }
  // Every field was set from the column the map assigns it; the table's
  // NOT NULL / CHECK constraints guarantee the value shapes.
  return out as unknown as AgentRecord;
}

/**
 * The record exactly as it will read back from the table (undefined fields
 * become null, undefined keys inside JSON disappear), so what a write returns
 * equals what a later read returns.
 */
export function normalizeAgent(agent: AgentRecord): AgentRecord {
  return rowToAgent(agentToRow(agent));
}

const FIXED: ReadonlySet<string> = new Set(['id', 'state', 'createdAt', 'updatedAt']);

/**
 * Applies a patch: only known fields, never the identity/state/timestamps the
 * store manages, and `undefined` means "leave as is" (pass null to clear).
 */
export function applyPatch(agent: AgentRecord, patch: object | undefined): AgentRecord {
  const next: Record<string, unknown> = { ...agent };
  if (patch !== undefined) {
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined && key in FIELDS && !FIXED.has(key)) next[key] = value;
    }
  }
  return next as unknown as AgentRecord;
}

/**
 * The record as written into the event log: `env` may hold secrets the user
 * passed to the agent and is never shown by the API, while events are
 * streamed (SSE) and pushed to peers — so it is kept only in the agents row.
 * The prompt is cut (with a marker): every transition repeats the record,
 * and the agents row keeps the whole prompt.
 */
export function eventView(agent: AgentRecord): AgentRecord {
  return { ...agent, env: {}, prompt: cutText(agent.prompt, PROMPT_ECHO_CHARS) };
}
