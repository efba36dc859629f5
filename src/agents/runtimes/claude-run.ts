/**
 * Claude Code's stream (claude-stream.ts) behind the common RuntimeStream:
 * progress events and a RunSummary in Mosaic's usage convention.
 */
import type { TokenUsage } from '../types.js';
import { ClaudeStreamState, type ClaudeSummary } from './claude-stream.js';
import { claudeRateLimit } from './rate-limit.js';
import type { RateLimitSignal, RunSummary, RuntimeStream, StreamEvent } from './runtime.js';
import { addUsage, count, isObject, ZERO_USAGE } from './stream-util.js';

function subtractUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens - b.inputTokens,
    outputTokens: a.outputTokens - b.outputTokens,
    cachedInputTokens: a.cachedInputTokens - b.cachedInputTokens,
    reasoningTokens: a.reasoningTokens - b.reasoningTokens,
  };
}

/**
 * Claude's usage object: `input_tokens` excludes the cache reads and cache
 * writes, which are input too; `output_tokens` already includes thinking,
 * which Claude Code does not report apart (reasoningTokens stays 0).
 */
export function claudeUsage(raw: unknown): TokenUsage | undefined {
  if (!isObject(raw)) return undefined;
  const cacheRead = count(raw.cache_read_input_tokens);
  return {
    inputTokens: count(raw.input_tokens) + count(raw.cache_creation_input_tokens) + cacheRead,
    outputTokens: count(raw.output_tokens),
    cachedInputTokens: cacheRead,
    reasoningTokens: 0,
  };
}

export class ClaudeRunStream implements RuntimeStream {
  private readonly state = new ClaudeStreamState();
  /** The latest usage of each assistant message (a message split over lines repeats it), for the running total. */
  private readonly messageUsage = new Map<string, TokenUsage>();
  private lastTools: string[] | undefined;
  private rateLimit: RateLimitSignal | undefined;

  push(line: string): StreamEvent[] {
    const seen = this.state.push(line);
    if (seen === null) return [];
    switch (seen.kind) {
      case 'init':
        return [{ kind: 'init', ...(seen.sessionId ? { sessionId: seen.sessionId } : {}), ...(seen.model ? { model: seen.model } : {}) }];
      case 'assistant': {
        const events: StreamEvent[] = [{ kind: 'turn', turn: seen.turn }];
        if (seen.text !== undefined) events.push({ kind: 'text', turn: seen.turn, text: seen.text });
        for (const name of seen.toolUses) events.push({ kind: 'tool', turn: seen.turn, name });
        if (seen.toolUses.length > 0) this.lastTools = seen.toolUses;
        const usage = claudeUsage(seen.usage);
        if (usage && seen.messageId !== undefined) {
          // Kept as a running total (a message split over lines repeats its usage: replace, not add), so a long
          // run costs the same per line at its end as at its start.
          const before = this.messageUsage.get(seen.messageId);
          this.messageUsage.set(seen.messageId, usage);
          this.total = addUsage(before ? subtractUsage(this.total, before) : this.total, usage);
          events.push({ kind: 'usage', usage: this.runningUsage() });
        }
        return events;
      }
      case 'tool_result':
        return [{ kind: 'tool_result', isError: seen.isError }];
      case 'rate_limit': {
        const signal = claudeRateLimit(seen.status, seen.resetsAt);
        // `allowed` after a warning or a rejection: the limit is behind.
        this.rateLimit = signal ?? undefined;
        if (signal === null) return seen.status === 'allowed' ? [{ kind: 'rate_limit', state: 'allowed' }] : [];
        return [{ kind: 'rate_limit', state: signal.state, ...(signal.resetsAt !== undefined ? { resetsAt: signal.resetsAt } : {}) }];
      }
      case 'result': {
        const events: StreamEvent[] = [];
        const usage = claudeUsage(this.state.summary().usage);
        if (usage) events.push({ kind: 'usage', usage, ...(seen.costUsd !== undefined ? { costUsd: seen.costUsd } : {}) });
        events.push({ kind: 'final', isError: seen.isError });
        return events;
      }
      default:
        return [];
    }
  }

  private total: TokenUsage = { ...ZERO_USAGE };

  private runningUsage(): TokenUsage {
    return { ...this.total };
  }

  summary(): RunSummary {
    const out = toRunSummary(this.state.summary(), this.messageUsage.size > 0 ? this.runningUsage() : undefined, this.lastTools);
    if (this.rateLimit !== undefined) {
      out.rateLimit = this.rateLimit;
      if (out.isError && this.rateLimit.state === 'rejected') out.errorCode = 'rate_limited';
    }
    return out;
  }
}

function toRunSummary(s: ClaudeSummary, running: TokenUsage | undefined, lastTools: string[] | undefined): RunSummary {
  const out: RunSummary = { sawFinal: s.sawResult, isError: s.isError };
  // The result's usage is the run's total; before it, the sum of the messages seen so far.
  const usage = claudeUsage(s.usage) ?? running;
  if (usage) out.usage = usage;
  if (s.errorMessage !== undefined && s.isError) out.errorMessage = s.errorMessage;
  if (s.assistantError === 'authentication_failed') out.errorCode = 'not_logged_in';
  if (s.sessionId !== undefined) out.sessionId = s.sessionId;
  if (s.model !== undefined) out.model = s.model;
  if (s.turns !== undefined) out.turns = s.turns;
  if (s.costUsd !== undefined) out.reportedCostUsd = s.costUsd;
  if (s.resultText !== undefined) out.resultText = s.resultText;
  if (s.lastText !== undefined) out.lastText = s.lastText;
  if (lastTools !== undefined) out.lastTools = lastTools;
  return out;
}
