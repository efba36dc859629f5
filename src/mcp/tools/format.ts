import type { PublicAgent } from '../../agents/index.js';
import { cutText } from '../bounds.js';

const PROMPT_CHARS = 300;
const SUMMARY_BYTES = 2000;

/** An agent as lists show it: everything but the long texts, which are cut (get_agent has them whole). */
export function compactAgent(agent: PublicAgent): Record<string, unknown> {
  const { prompt, result, progress, ...rest } = agent;
  return {
    ...rest,
    prompt: prompt.length > PROMPT_CHARS ? `${prompt.slice(0, PROMPT_CHARS)}…` : prompt,
    result: result && { ...result, ...(result.summary === undefined ? {} : { summary: cutText(result.summary, SUMMARY_BYTES) }) },
    progress: progress && { ...progress, ...(progress.lastText === undefined ? {} : { lastText: cutText(progress.lastText, 500) }) },
  };
}

/** What `wait_agents` says of each agent: how it ended and what it produced. */
export function outcomeOf(agent: PublicAgent): Record<string, unknown> {
  return {
    id: agent.id,
    state: agent.state,
    taskId: agent.taskId,
    repo: agent.repo,
    branch: agent.branch,
    error: agent.error,
    result: agent.result && { ...agent.result, ...(agent.result.summary === undefined ? {} : { summary: cutText(agent.result.summary, SUMMARY_BYTES) }) },
    landed: agent.landed,
    endedAt: agent.endedAt,
    ...(agent.peer === undefined ? {} : { peer: agent.peer }),
  };
}

/** One line per agent: `a1b2c3 completed  task fix-login in web (agent-a1b2c3-fix-login) — 2 commits, 3 files`. */
export function agentLine(agent: PublicAgent): string {
  const where = agent.peer ? ` on peer ${agent.peer}` : '';
  const parts = [`${agent.id} ${agent.state}`, `task ${agent.taskId} in ${agent.repo}${where} (${agent.branch})`];
  if (agent.error) parts.push(`error ${agent.error.code}: ${cutText(agent.error.message, 300)}`);
  const r = agent.result;
  if (r && (r.commitsAhead !== undefined || r.filesChanged !== undefined)) {
    parts.push(`${r.commitsAhead ?? 0} commit(s), ${r.filesChanged ?? 0} file(s) changed`);
  }
  if (agent.landed) parts.push(`landed into ${agent.landed.into}`);
  return parts.join(' — ');
}
