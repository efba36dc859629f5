import { conflict, invalid, notFound } from '../core/errors.js';
import { resolveCommit } from '../git/index.js';
import type { RepoRecord } from '../store/types.js';
import { isTerminal } from './lifecycle.js';
import { runtimeOf, SESSION_RE } from './runtimes/index.js';
import { buildAgentRecord } from './spawn-request.js';
import type { AgentRecord, SpawnRequest } from './types.js';

/** Same bound as a spawn's prompt (DESIGN §3: Linux refuses one argv string over 128 KiB). */
export const MAX_REPLY_PROMPT = 130_048;

export interface ReplyRequest {
  /** The new instruction. */
  prompt: string;
  /** Set by a peer's `agent.reply` (its message id), so a redelivered reply does not start a second agent. */
  idempotencyKey?: string;
}

/** The session a follow-up resumes, or null when the agent's runtime cannot resume one or it recorded none. */
export function resumableSession(agent: AgentRecord): string | null {
  if (runtimeOf(agent.runtime).resume === undefined) return null;
  const session = agent.result?.sessionId ?? agent.progress?.sessionId;
  return typeof session === 'string' && SESSION_RE.test(session) ? session : null;
}

/**
 * The queued record of a follow-up (`reply`): the finished agent's request
 * (task, type, repo, base, runtime, priority, timeout, env) with a new
 * prompt, under a new id and branch `agent-<newId>-<task>` that starts at
 * the old branch's tip (resolved now, like `retry --continue`), its base
 * unchanged so diff and land include the earlier work. An agent whose
 * runtime can resume (claude) resumes its recorded session (like `retry
 * --resume`), so the reply is the next turn of the same conversation;
 * others start afresh on the work. `origin` is who asks: only the agent's own origin may continue it.
 * Nothing is written here.
 */
export async function buildFollowUpRecord(agent: AgentRecord, repo: RepoRecord, request: ReplyRequest, origin: string): Promise<AgentRecord> {
  if (typeof request.prompt !== 'string' || request.prompt.length === 0 || request.prompt.length > MAX_REPLY_PROMPT) {
    throw invalid('invalid_request', `prompt must be a string of 1..${MAX_REPLY_PROMPT} characters`, { field: 'prompt' });
  }
  if (agent.origin !== origin) {
    throw conflict('agent_not_local', `agent '${agent.id}' was spawned by a peer; that peer decides about replying to it`, { origin: agent.origin });
  }
  if (!isTerminal(agent.state)) {
    throw conflict('agent_not_finished', `agent '${agent.id}' is ${agent.state}; reply once it has ended (or kill it first)`, { state: agent.state });
  }
  const spawn: SpawnRequest = {
    taskId: agent.taskId, type: agent.type, repo: agent.repo, baseBranch: agent.baseBranch, prompt: request.prompt,
    runtime: agent.runtime, priority: agent.priority, env: agent.env,
    ...(agent.timeoutS === null ? {} : { timeoutS: agent.timeoutS }),
    ...(agent.budgetUsd === null ? {} : { budgetUsd: agent.budgetUsd }),
    ...(request.idempotencyKey === undefined ? {} : { idempotencyKey: request.idempotencyKey }),
  };
  const record = buildAgentRecord(spawn, repo, origin);
  const session = resumableSession(agent);
  const runtime = runtimeOf(record.runtime);
  // The old agent's own resume (it may itself be a follow-up) is replaced by the session it recorded.
  record.runtime = runtime.fresh(record.runtime);
  if (session !== null && runtime.resume !== undefined) record.runtime = runtime.resume(record.runtime, session);
  const startPoint = await resolveCommit(repo.path, `refs/heads/${agent.branch}`);
  if (startPoint === null) {
    throw notFound('branch_not_found', `branch ${agent.branch} of agent '${agent.id}' does not exist (the agent ended before it was made, or it was deleted): nothing to continue`);
  }
  record.followUpOf = { agentId: agent.id, continue: true, startPoint, resumed: session };
  return record;
}
