import type { PublicAgent } from '../agents/index.js';
import { TERMINAL_STATES } from '../agents/types.js';
import { CliError, type ApiClient } from './client.js';
import { exitStatusFor, interruptible, sleep } from './signals.js';

/**
 * Exit codes of `spawn --wait` / `spawn --follow` (DESIGN §6): 0 completed,
 * 1 failed, 3 killed. (2 stays "usage error" for every command.)
 */
export const EXIT_KILLED = 3;

export function exitCodeFor(agent: PublicAgent): number {
  if (agent.state === 'completed') return 0;
  if (agent.state === 'killed') return EXIT_KILLED;
  return 1;
}

export const agentPath = (id: string): string => `/agents/${encodeURIComponent(id)}`;
const POLL_MS = 250;

/**
 * Polls until the agent is terminal. Ctrl-C stops waiting (the agent keeps
 * going) with `interrupted`; `timeoutS` gives up with `wait_timeout`.
 */
export async function waitTerminal(client: ApiClient, id: string, timeoutS?: number): Promise<PublicAgent> {
  const interrupt = interruptible();
  try {
    const deadline = timeoutS === undefined ? Infinity : Date.now() + timeoutS * 1000;
    for (;;) {
      const agent = await client.get<PublicAgent>(agentPath(id));
      if (TERMINAL_STATES.includes(agent.state)) return agent;
      if (interrupt.by) {
        throw new CliError('interrupted', `stopped waiting; ${id} is still ${agent.state} (\`mosaic agents kill ${id}\` stops it)`, { exitCode: exitStatusFor(interrupt.by) });
      }
      if (Date.now() > deadline) throw new CliError('wait_timeout', `${id} is still ${agent.state} after ${timeoutS}s`);
      await sleep(POLL_MS, interrupt.signal);
    }
  } finally {
    interrupt.dispose();
  }
}

/** One line that says how an agent ended: `a1b2c3: completed`, `a1b2c3: failed (timeout: ...)`. */
export function endLine(agent: PublicAgent): string {
  return `${agent.id}: ${agent.state}${agent.error ? ` (${agent.error.code}: ${agent.error.message})` : ''}`;
}
