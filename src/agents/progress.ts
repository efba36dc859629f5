import { readLogPage } from './logs.js';
import { agentLogPath, type AgentContext } from './context.js';
import { instancePrices, runCost, runtimeOf, type PriceTable, type RuntimeStream } from './runtimes/index.js';
import type { AgentProgress, AgentRecord } from './types.js';

interface Tail {
  offset: number;
  stream: RuntimeStream;
}

const MAX_TEXT = 500;
const LINES_PER_PASS = 2000;

/** The progress a stream's summary shows, or null before its first turn. */
function progressOf(agent: AgentRecord, stream: RuntimeStream, prices: PriceTable): AgentProgress | null {
  const s = stream.summary();
  if (s.turns === undefined || s.turns === 0) return null;
  const cost = s.usage !== undefined || s.reportedCostUsd !== undefined ? runCost(agent.runtime, s, prices) : null;
  return {
    turns: s.turns,
    ...(s.sessionId ? { sessionId: s.sessionId } : {}),
    ...(s.lastText ? { lastText: s.lastText.slice(0, MAX_TEXT) } : {}),
    ...(s.lastTools && s.lastTools.length > 0 ? { tools: s.lastTools } : {}),
    ...(s.usage ? { usage: s.usage } : {}),
    ...(cost ? { costUsd: cost.costUsd, costEstimated: cost.costEstimated } : {}),
  };
}

/** Something a reader of progress would notice: a new turn, new text or tools, more tokens. */
function changed(before: AgentProgress | null, after: AgentProgress): boolean {
  if (!before) return true;
  return after.turns > before.turns
    || after.lastText !== before.lastText
    || (after.usage?.outputTokens ?? 0) + (after.usage?.inputTokens ?? 0) > (before.usage?.outputTokens ?? 0) + (before.usage?.inputTokens ?? 0);
}

/**
 * Follows running agents' streams (every runtime with one) and turns what
 * changed into an `agent.progress` event (the agent record with its
 * `progress` updated). After a restart the log is read again from the start,
 * and only what is past the recorded progress is announced, so nothing is
 * repeated.
 */
export class ProgressTracker {
  private readonly tails = new Map<string, Tail>();

  constructor(private readonly ctx: AgentContext) {}

  async track(agent: AgentRecord): Promise<void> {
    let tail = this.tails.get(agent.id);
    if (!tail) {
      const stream = runtimeOf(agent.runtime).stream();
      if (stream === null) return;
      tail = { offset: 0, stream };
      this.tails.set(agent.id, tail);
    }
    const page = readLogPage(agentLogPath(this.ctx.config, agent.id), tail.offset, LINES_PER_PASS, false);
    if (page.lines.length === 0) return;
    tail.offset = page.next;
    for (const line of page.lines) {
      for (const event of tail.stream.push(line)) {
        if (event.kind === 'rate_limit') this.ctx.gate?.rateLimitSeen(agent, event.state === 'allowed' ? { state: 'allowed' } : { state: event.state, ...(event.resetsAt !== undefined ? { resetsAt: event.resetsAt } : {}) });
      }
    }
    const latest = progressOf(agent, tail.stream, instancePrices(this.ctx.config.home));
    if (!latest || latest.turns < (agent.progress?.turns ?? 0) || !changed(agent.progress, latest)) return;
    const updated = await this.ctx.store.agents.update(agent.id, { progress: latest });
    if (updated?.state === 'running') this.ctx.bus.publish(await this.ctx.store.events.append('agent.progress', agent.id, updated));
  }

  forget(agentId: string): void {
    this.tails.delete(agentId);
  }
}
