import type { EventBus } from './event-bus.js';
import { isTerminal } from './lifecycle.js';
import type { AgentState } from './types.js';

/** Agents are read again at least this often, whatever the events say (a remote agent's peer may be silent). */
const RECHECK_MS = 2000;

export interface WaitOutcome<A> {
  agents: A[];
  timedOut: boolean;
}

/**
 * Waits until every agent in `ids` has ended, or `timeoutMs` passed, or
 * `signal` aborted (the caller went away). Woken by the agents' own events,
 * so an ended agent is seen at once rather than at the next poll; an unknown
 * id fails at once (`get`'s own `agent_not_found`). Used by MCP's
 * `wait_agents` and A2A's blocking `SendMessage` and `CancelTask`.
 */
export async function waitAgents<A extends { state: AgentState }>(
  get: (id: string) => Promise<A>, bus: Pick<EventBus, 'subscribe'>, ids: readonly string[], timeoutMs: number,
  opts: { signal?: AbortSignal; onWait?: (agents: A[]) => void } = {},
): Promise<WaitOutcome<A>> {
  const wanted = new Set(ids);
  let dirty = false;
  let wake: (() => void) | undefined;
  const unsubscribe = bus.subscribe((event) => {
    if (!wanted.has(event.agentId)) return;
    dirty = true;
    wake?.();
  });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      dirty = false;
      const agents = await Promise.all(ids.map((id) => get(id)));
      if (agents.every((agent) => isTerminal(agent.state))) return { agents, timedOut: false };
      const left = deadline - Date.now();
      if (left <= 0 || opts.signal?.aborted) return { agents, timedOut: true };
      opts.onWait?.(agents);
      if (dirty) continue; // an event arrived while the agents were being read
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, RECHECK_MS));
        opts.signal?.addEventListener('abort', done, { once: true });
        wake = done;
      });
    }
  } finally {
    unsubscribe();
  }
}
