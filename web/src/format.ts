import { TIMING_PHASES } from '../../src/core/agent-model';
import { formatDuration } from '../../src/core/duration';
import type { Agent, AgentState } from './types';

/** Each state has its own symbol as well as its word and colour, so none relies on colour alone. */
export const STATE_SYMBOL: Record<AgentState, string> = {
  queued: '…',
  spawning: '◌',
  running: '▶',
  completed: '✓',
  failed: '✗',
  killed: '■',
};

/** As the CLI prints durations: 850ms, 12s, 3m 05s, 2h 03m, 4d 02h. */
export const duration = formatDuration;

export const cost = (usd: number | null | undefined): string => (usd === undefined ? '' : usd === null ? 'unknown' : `$${usd.toFixed(usd < 1 ? 4 : 2)}`);

export function turns(agent: Agent): number | undefined {
  return agent.result?.turns ?? agent.progress?.turns;
}

export function runtimeLabel(agent: Agent): string {
  if (agent.runtime.kind === 'command') return `command ${(agent.runtime.argv ?? []).join(' ')}`.trim();
  return agent.runtime.model ? `claude ${agent.runtime.model}` : 'claude';
}

/** The recorded phases in order, each with its share of their sum (percent, for the bar). */
export function timingRows(timings: Agent['timings']): { phase: string; ms: number; share: number }[] {
  if (!timings) return [];
  const rows = TIMING_PHASES.filter((phase) => typeof timings[phase] === 'number').map((phase) => ({ phase, ms: timings[phase] as number }));
  const total = rows.reduce((sum, row) => sum + row.ms, 0);
  return rows.map((row) => ({ ...row, share: total > 0 ? (row.ms / total) * 100 : 0 }));
}

/** Where the agent runs: this instance, or the peer (by connection name when known). */
export const placeOf = (agent: Agent): string => (agent.instance ? (agent.peer ?? agent.instance.slice(0, 12)) : 'local');

/** Why a remote agent's view may be out of date, for its stale mark. */
export function staleReason(agent: Agent, now: number): string {
  const contact = agent.peerContact;
  const heard = contact?.lastContactAt ? `last heard from ${duration(now - contact.lastContactAt)} ago` : 'not heard from since the server started';
  if (contact?.unreachableSince) return `${placeOf(agent)} unreachable for ${duration(now - contact.unreachableSince)}; ${heard}`;
  return `${placeOf(agent)} silent; ${heard}`;
}

export const time = (ms: number | null | undefined): string => (ms ? new Date(ms).toLocaleString() : '-');

export const shorten = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
