import { agentBranchName, type PublicAgent, type SpawnRequest } from '../../agents/index.js';
import { MosaicError } from '../../core/errors.js';
import { isValidName } from '../../core/ids.js';

/**
 * Names on this side are this side's (DESIGN §3 "Hostile input"): a remote
 * agent's work lives here only under `refs/heads/agent-<id>-<task>` of the
 * hub's own record, where `task` is the taskId this instance sent and `id`
 * the agent id the peer made (one segment without '-', so no two records
 * share a branch). What the peer reports (its `branch`, `baseBranch`, a
 * bundle's refs) is compared with that, never used as a name.
 */

/** A peer answered with names that are not the ones this side derives: 502, nothing written. */
export function peerMisreported(message: string, details?: Record<string, unknown>): MosaicError {
  return new MosaicError(502, 'peer_misreported', message, details);
}

/** The fields of a remote agent fixed by the spawn: a later answer or event that changes one is a peer misreporting. */
const FIXED = ['taskId', 'repo', 'branch', 'baseBranch', 'origin'] as const;

/** Where a remote agent's work goes in the repository here. */
export function localBranchOf(agent: Pick<PublicAgent, 'id' | 'taskId'>): string {
  if (!isValidName(agent.taskId)) throw peerMisreported(`agent '${agent.id}' has a task id this instance never sent`, { agentId: agent.id });
  return agentBranchName(agent.id, agent.taskId);
}

/**
 * The peer's answer to this instance's spawn must describe that spawn: its
 * task and repository, the branch derived from them, and the base branch
 * when the spawn named one.
 */
export function checkSpawnAnswer(request: SpawnRequest, agent: PublicAgent): void {
  const wrong: string[] = [];
  if (agent.taskId !== request.taskId) wrong.push('taskId');
  if (agent.repo !== request.repo) wrong.push('repo');
  if (request.baseBranch !== undefined && agent.baseBranch !== request.baseBranch) wrong.push('baseBranch');
  if (wrong.length === 0 && agent.branch !== localBranchOf(agent)) wrong.push('branch');
  if (wrong.length > 0) {
    throw peerMisreported(`the peer answered the spawn with an agent whose ${wrong.join(', ')} differ from the request`, { agentId: agent.id, fields: wrong });
  }
}

/** The fields of `incoming` that differ from what the mirror holds for the same agent. */
export function changedFixedFields(current: PublicAgent, incoming: PublicAgent): string[] {
  return FIXED.filter((field) => current[field] !== incoming[field]);
}
