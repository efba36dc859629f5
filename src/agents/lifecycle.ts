import type { AgentState } from './types.js';

/**
 * The lifecycle (DESIGN §3): queued → spawning → running → completed | failed | killed,
 * plus queued → killed and spawning → failed | killed. Terminal states never change.
 * spawning → queued: an agent caught mid-launch by a server crash is queued again at restart.
 */
export const TRANSITIONS: Readonly<Record<AgentState, readonly AgentState[]>> = {
  queued: ['spawning', 'killed'],
  spawning: ['running', 'failed', 'killed', 'queued'],
  running: ['completed', 'failed', 'killed'],
  completed: [],
  failed: [],
  killed: [],
};

export function canTransition(from: AgentState, to: AgentState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(state: AgentState): boolean {
  return TRANSITIONS[state].length === 0;
}

/** The states an agent may be in for a move to `to`. */
export function sourcesOf(to: AgentState): AgentState[] {
  return (Object.keys(TRANSITIONS) as AgentState[]).filter((from) => TRANSITIONS[from].includes(to));
}
