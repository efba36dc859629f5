import { conflict, invalid, notFound } from '../core/errors.js';
import { resolveCommit } from '../git/index.js';
import type { RepoRecord } from '../store/types.js';
import { isTerminal } from './lifecycle.js';
import { runtimeOf, SESSION_RE } from './runtimes/index.js';
import { buildAgentRecord } from './spawn-request.js';
import type { AgentRecord, SpawnRequest } from './types.js';

export interface RetryRequest {
  /** Start on the previous agent's work instead of the base branch. */
  continue?: boolean;
  /** claude only: continue the previous agent's recorded session (`claude --resume`). */
  resume?: boolean;
}

/**
 * The queued record of a retry: the same request as `agent` (task, type,
 * repo, base, prompt, runtime, priority, timeout, env) under a new id and
 * so a new branch `agent-<newId>-<task>`. With `continue` that branch starts
 * at the old branch's tip (resolved now, so a later change of the old
 * branch does not move it) while the base stays the same: the new agent's
 * diff and land include the earlier work. Nothing is written here.
 */
export async function buildRetryRecord(agent: AgentRecord, repo: RepoRecord, request: RetryRequest): Promise<AgentRecord> {
  if (!isTerminal(agent.state)) {
    throw conflict('agent_not_finished', `agent '${agent.id}' is ${agent.state}; retry it once it has ended (or kill it first)`, { state: agent.state });
  }
  if (agent.origin !== 'local') {
    throw conflict('agent_not_local', `agent '${agent.id}' was spawned by ${agent.origin.startsWith('a2a:') ? 'an A2A client' : 'a peer'} (${agent.origin}); it decides about retrying it`, { origin: agent.origin });
  }
  const spawn: SpawnRequest = {
    taskId: agent.taskId, type: agent.type, repo: agent.repo, baseBranch: agent.baseBranch, prompt: agent.prompt,
    runtime: agent.runtime, priority: agent.priority, env: agent.env,
    ...(agent.timeoutS === null ? {} : { timeoutS: agent.timeoutS }),
    ...(agent.budgetUsd === null ? {} : { budgetUsd: agent.budgetUsd }),
  };
  const record = buildAgentRecord(spawn, repo, 'local');

  let resumed: string | null = null;
  const runtime = runtimeOf(record.runtime);
  // A plain retry starts a fresh session even when the old agent itself was a resume.
  record.runtime = runtime.fresh(record.runtime);
  if (request.resume === true) {
    if (runtime.resume === undefined) {
      throw invalid('resume_not_supported', `${record.runtime.kind} agents have no session to resume`, { field: 'resume' });
    }
    const session = agent.result?.sessionId ?? agent.progress?.sessionId;
    if (typeof session !== 'string' || !SESSION_RE.test(session)) {
      throw conflict('no_session', `agent '${agent.id}' recorded no ${record.runtime.kind} session id to resume`);
    }
    resumed = session;
    record.runtime = runtime.resume(record.runtime, session);
  }

  let startPoint: string | null = null;
  if (request.continue === true) {
    startPoint = await resolveCommit(repo.path, `refs/heads/${agent.branch}`);
    if (startPoint === null) throw notFound('branch_not_found', `branch ${agent.branch} of agent '${agent.id}' no longer exists`);
  }
  record.retryOf = { agentId: agent.id, continue: request.continue === true, startPoint, resumed };
  return record;
}
