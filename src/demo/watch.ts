import type { PublicAgent } from '../agents/index.js';
import type { AgentState } from '../agents/types.js';
import type { ApiClient } from '../cli/client.js';

/** Follows an instance's `/api/v1/events` SSE stream, printing each agent transition as it arrives. */
export interface EventWatch {
  /** The latest state seen per agent id. */
  readonly states: ReadonlyMap<string, AgentState>;
  /** Resolves once the stream has shown `state` for agent `id`. */
  seen(id: string, state: AgentState, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

export function watchEvents(client: ApiClient, out: (line: string) => void, prefix: string): EventWatch {
  const controller = new AbortController();
  const states = new Map<string, AgentState>();
  const history = new Set<string>();
  const waiters = new Set<() => void>();

  const done = (async () => {
    for await (const frame of client.stream('/events', { signal: controller.signal })) {
      if (frame.event !== 'agent.state') continue;
      const agent = JSON.parse(frame.data) as PublicAgent;
      states.set(agent.id, agent.state);
      history.add(`${agent.id}:${agent.state}`);
      const where = agent.peer ?? agent.instance ?? 'here';
      const error = agent.error ? `  (${agent.error.code}: ${agent.error.message})` : '';
      out(`${prefix} #${frame.id ?? '?'}  ${agent.id}  ${agent.state.padEnd(9)} task=${agent.taskId} on ${where}${error}`);
      for (const wake of waiters) wake();
    }
  })().catch((err: unknown) => {
    if (!controller.signal.aborted) out(`${prefix} stream ended: ${err instanceof Error ? err.message : String(err)}`);
  });

  return {
    states,
    seen(id, state, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!history.has(`${id}:${state}`)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the event stream did not show ${id} ${state} within ${timeoutMs / 1000}s`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}
