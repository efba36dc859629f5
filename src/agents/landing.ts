import { conflict, invalid, isMosaicError, MosaicError, notFound } from '../core/errors.js';
import { LAND_STRATEGIES, type AgentLanding, type AgentRecord, type LandStrategy } from '../core/agent-model.js';
import { assertBranchName } from '../git/index.js';
import type { AgentContext } from './context.js';
import { isTerminal } from './lifecycle.js';

export interface LandRequest {
  strategy?: LandStrategy;
  /** Target branch; default the agent's base branch. */
  into?: string;
  /** Message of the merge or squash commit. */
  message?: string;
}

export const MAX_LAND_MESSAGE = 65_536;

/** The first line of the prompt, shortened, for commit subjects. */
function promptLine(prompt: string): string {
  const line = prompt.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

function defaultMessage(agent: LandableWork, strategy: LandStrategy, into: string): string {
  const about = promptLine(agent.prompt);
  const trailer = `Agent: ${agent.id}\nTask: ${agent.taskId}\nBranch: ${agent.branch}`;
  if (strategy === 'squash') return `${agent.taskId}: ${about}\n\n${trailer}\n`;
  return `Merge ${agent.branch} into ${into}\n\n${about}\n\n${trailer}\n`;
}

/** What landing needs to know about an agent's work (a local record or a remote agent's mirror). */
export type LandableWork = Pick<AgentRecord, 'id' | 'state' | 'taskId' | 'branch' | 'baseBranch' | 'prompt'>;

/**
 * Lands a finished agent's branch in a repository here: the git work is the
 * worktree manager's (computed without a checkout, CAS on the target).
 */
export async function landWork(ctx: AgentContext, repoName: string, work: LandableWork, request: LandRequest): Promise<AgentLanding> {
  if (!isTerminal(work.state)) {
    throw conflict('agent_not_finished', `agent '${work.id}' is ${work.state}; land it once it has ended (or kill it first)`, { state: work.state });
  }
  const strategy = request.strategy ?? 'merge';
  if (!(LAND_STRATEGIES as readonly string[]).includes(strategy)) {
    throw invalid('invalid_strategy', `strategy must be one of ${LAND_STRATEGIES.join(', ')}`, { field: 'strategy' });
  }
  const into = assertBranchName('into', request.into ?? work.baseBranch);
  const message = request.message ?? defaultMessage(work, strategy, into);
  if (message.includes('\0') || message.length > MAX_LAND_MESSAGE || message.trim() === '') {
    throw invalid('invalid_message', `message must be non-empty text of at most ${MAX_LAND_MESSAGE} characters without NUL`, { field: 'message' });
  }
  const repo = await ctx.store.repos.get(repoName);
  if (!repo) throw notFound('repo_not_found', `repository '${repoName}' is not registered`);
  let result: { commit: string; into: string };
  if (repo.url) {
    // Shared by URL: the remote is the truth. Both branches as it has them (the agent may have run on another
    // node), and the target moves there first, with a compare-and-swap on what was read (409 target_moved).
    await ctx.remotes.adopt(repo, work.branch);
    if (into !== repo.baseBranch) await ctx.remotes.adopt(repo, into);
  }
  try {
    result = await ctx.git.land({
      repoPath: repo.path, source: work.branch, into, strategy, message,
      ...(repo.url ? { beforeUpdate: ({ previous, commit }: { previous: string; commit: string }) => ctx.remotes.pushLanding(repo, into, previous, commit) } : {}),
    });
  } catch (err) {
    if (isMosaicError(err) && err.code === 'land_conflict') throw landConflictNext(err, work, repo.path, into);
    throw err;
  }
  ctx.logger.info({ agentId: work.id, repo: repo.name, into, strategy, commit: result.commit }, 'agent work landed');
  return { commit: result.commit, into: result.into, strategy, at: Date.now() };
}

const MAX_NAMED_PATHS = 10;

/**
 * A land conflict said with what to do next (issue 22, defect 7): the paths
 * once (details.paths has them all), then the ways on: the agent resolves
 * it (a follow-up on its own work, told to merge the target), a fresh retry
 * from the target as it is now, or a person lands it by hand. (`retry
 * --continue` is not offered: it restarts on the old tip with the old prompt
 * and would conflict again.)
 */
export function landConflictNext(err: MosaicError, work: Pick<LandableWork, 'id' | 'branch'>, repoPath: string, into: string): MosaicError {
  const paths = Array.isArray(err.details?.paths) ? err.details.paths.filter((p): p is string => typeof p === 'string') : [];
  const named = paths.slice(0, MAX_NAMED_PATHS).join(', ') + (paths.length > MAX_NAMED_PATHS ? ` and ${paths.length - MAX_NAMED_PATHS} more` : '');
  const next = [
    `mosaic agents reply ${work.id} "merge ${into} and resolve the conflicts"`,
    `mosaic agents retry ${work.id}`,
    `git -C ${repoPath} merge ${work.branch}`,
  ];
  const message = `agent ${work.id} conflicts with ${into} in ${paths.length} file(s): ${named}. `
    + `Next: have the agent resolve it on its work (${next[0]}) or redo the task from ${into} as it is now (${next[1]}), then land again; `
    + `or land it by hand (${next[2]}, resolve, commit)`;
  return new MosaicError(err.status, 'land_conflict', message, { ...err.details, paths, next });
}

/**
 * Lands a local agent (DESIGN §3 "Landing work") and records `landed` on it
 * with an `agent.landed` event, both in one store write.
 */
export async function landAgent(ctx: AgentContext, agent: AgentRecord, request: LandRequest): Promise<{ agent: AgentRecord; landed: AgentLanding }> {
  const landed = await landWork(ctx, agent.repo, agent, request);
  const written = await ctx.store.agents.updateWithEvent(agent.id, { landed }, 'agent.landed');
  if (!written) throw notFound('agent_not_found', `agent '${agent.id}' was discarded while it was landing`);
  ctx.bus.publish(written.event);
  return { agent: written.agent, landed };
}
