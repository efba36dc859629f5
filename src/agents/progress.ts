import { readLogPage } from './logs.js';
import { agentLogPath, type AgentContext } from './context.js';
import { ClaudeStreamState } from './runtimes/index.js';
import type { AgentProgress, AgentRecord } from './types.js';

interface Tail {
  offset: number;
  stream: ClaudeStreamState;
}

const MAX_TEXT = 500;
const LINES_PER_PASS = 2000;

/**
 * Follows running claude agents' stream-json output and turns each new
 * assistant turn into an `agent.progress` event (the agent record with its
 * `progress` updated). After a restart the log is read again from the start,
 * and only turns past the recorded one are announced, so none is repeated.
 */
export class ProgressTracker {
  private readonly tails = new Map<string, Tail>();

  constructor(private readonly ctx: AgentContext) {}

  async track(agent: AgentRecord): Promise<void> {
    if (agent.runtime.kind !== 'claude') return;
    let tail = this.tails.get(agent.id);
    if (!tail) {
      tail = { offset: 0, stream: new ClaudeStreamState() };
      this.tails.set(agent.id, tail);
    }
    const page = readLogPage(agentLogPath(this.ctx.config, agent.id), tail.offset, LINES_PER_PASS, false);
    tail.offset = page.next;
    let latest: AgentProgress | null = null;
    for (const line of page.lines) {
      const seen = tail.stream.push(line);
      if (seen?.kind !== 'assistant') continue;
      const { sessionId } = tail.stream.summary();
      latest = {
        turns: seen.turn,
        ...(sessionId ? { sessionId } : {}),
        ...(seen.text ? { lastText: seen.text.slice(0, MAX_TEXT) } : {}),
        ...(seen.toolUses.length > 0 ? { tools: seen.toolUses } : {}),
      };
    }
    if (!latest || latest.turns <= (agent.progress?.turns ?? 0)) return;
    const updated = await this.ctx.store.agents.update(agent.id, { progress: latest });
    if (updated?.state === 'running') this.ctx.bus.publish(await this.ctx.store.events.append('agent.progress', agent.id, updated));
  }

  forget(agentId: string): void {
    this.tails.delete(agentId);
  }
}
