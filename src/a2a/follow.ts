import type { Artifact, StreamResponse } from '@a2a-js/sdk';
import { isTerminal, type AgentRecord, type EventBus } from '../agents/index.js';
import { a2aState, taskOf, taskStatus } from './task-view.js';

/** The agent is read again at least this often, whatever the events say. */
const RECHECK_MS = 2000;

export interface FollowDeps {
  get(id: string): Promise<AgentRecord>;
  bus: Pick<EventBus, 'subscribe'>;
  artifacts(agent: AgentRecord): Promise<Artifact[]>;
}

const statusUpdate = (agent: AgentRecord): StreamResponse => ({
  payload: { $case: 'statusUpdate', value: { taskId: agent.id, contextId: agent.taskId, status: taskStatus(agent), metadata: { mosaic: { state: agent.state } } } },
});

/**
 * The event stream of one task (SendStreamingMessage, SubscribeToTask): first
 * the task as it is now, then a status update each time its A2A state changes
 * (woken by the agent's own events), and when it ends its artifacts followed
 * by the final status. Stops early when `signal` aborts (the client went away).
 */
export async function* followTask(deps: FollowDeps, id: string, signal: AbortSignal | undefined): AsyncGenerator<StreamResponse, void, undefined> {
  let dirty = false;
  let wake: (() => void) | undefined;
  const unsubscribe = deps.bus.subscribe((event) => {
    if (event.agentId !== id) return;
    dirty = true;
    wake?.();
  });
  try {
    let agent = await deps.get(id);
    yield { payload: { $case: 'task', value: taskOf(agent, await deps.artifacts(agent)) } };
    if (isTerminal(agent.state)) return;
    let last = a2aState(agent.state);
    while (!isTerminal(agent.state)) {
      if (!dirty) await pause(signal, (done) => (wake = done));
      wake = undefined;
      if (signal?.aborted) return;
      dirty = false;
      agent = await deps.get(id);
      const state = a2aState(agent.state);
      if (!isTerminal(agent.state) && state !== last) {
        last = state;
        yield statusUpdate(agent);
      }
    }
    for (const artifact of await deps.artifacts(agent)) {
      yield { payload: { $case: 'artifactUpdate', value: { taskId: agent.id, contextId: agent.taskId, artifact, append: false, lastChunk: true, metadata: undefined } } };
    }
    yield statusUpdate(agent);
  } finally {
    unsubscribe();
  }
}

function pause(signal: AbortSignal | undefined, register: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, RECHECK_MS);
    signal?.addEventListener('abort', done, { once: true });
    register(done);
  });
}
