import { api, ApiError } from './api';
import { fleet } from './fleet';
import { ACTIVE, type Agent } from './types';

/** What can be done with an agent here, local or remote, as the API allows it. */
export interface Allowed {
  kill: boolean;
  land: boolean;
  retry: boolean;
  reply: boolean;
  fetch: boolean;
  discard: boolean;
}

export const LAND_STRATEGIES = ['merge', 'squash', 'rebase'] as const;

/**
 * The actions one agent offers. Land: finished, not landed, and with work to
 * land (commitsAhead 0 means nothing). Retry runs here, so only for agents
 * this instance spawned itself; a reply goes to the agent's own instance (a
 * peer's agent here is its peer's to continue: the API says agent_not_local). Fetch brings a remote
 * agent's work here. Discard: finished, or orphaned (its peer is gone).
 */
export function allowedFor(agent: Agent): Allowed {
  const active = ACTIVE.includes(agent.state);
  const finished = !active;
  const ours = agent.instance !== undefined || agent.origin === 'local';
  return {
    kill: active && !agent.orphaned,
    land: finished && !agent.landed && agent.result?.commitsAhead !== 0,
    retry: finished && agent.instance === undefined && agent.origin === 'local',
    reply: finished && ours,
    fetch: finished && agent.instance !== undefined,
    discard: finished || agent.orphaned === true,
  };
}

const path = (id: string) => `/agents/${encodeURIComponent(id)}`;

export const kill = (agent: Agent): Promise<Agent> => api.post<Agent>(`${path(agent.id)}/kill`).then(applied);

export async function land(agent: Agent, strategy: string): Promise<Agent> {
  const answer = await api.post<{ agent: Agent; landed: NonNullable<Agent['landed']> }>(`${path(agent.id)}/land`, { strategy });
  return applied({ ...answer.agent, landed: answer.landed });
}

export const retry = (agent: Agent, onItsWork: boolean): Promise<Agent> =>
  api.post<Agent>(`${path(agent.id)}/retry`, onItsWork ? { continue: true } : {}).then(applied);

export const reply = (agent: Agent, prompt: string): Promise<Agent> => api.post<Agent>(`${path(agent.id)}/reply`, { prompt }).then(applied);

export async function fetchWork(agent: Agent): Promise<{ repo: string; branch: string; commit: string }> {
  const answer = await api.post<{ agent: Agent; fetched: { repo: string; branch: string; commit: string } }>(`${path(agent.id)}/fetch`, {});
  return answer.fetched;
}

/**
 * Discards after asking; commits never landed would be lost, so the server
 * asks again and so does the page. An orphaned remote agent needs force
 * (its peer keeps its own record). Returns false when the user kept it.
 */
export async function discard(agent: Agent, ask: (question: string) => boolean = (question) => confirm(question)): Promise<boolean> {
  const where = agent.instance ? ' Its record here is forgotten; its peer keeps its own.' : ' Its worktree and branch are deleted.';
  if (!ask(`Discard agent ${agent.id}?${where}`)) return false;
  try {
    await api.del(agent.orphaned ? `${path(agent.id)}?force=true` : path(agent.id));
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'unmerged_commits')) throw err;
    if (!ask(`${err.message}. Discard them anyway?`)) return false;
    await api.del(`${path(agent.id)}?force=true`);
  }
  fleet.remove(agent.id);
  return true;
}

function applied(agent: Agent): Agent {
  fleet.apply(agent);
  return agent;
}
