/**
 * Reading rate-limit signals out of runtimes' output (see
 * AgentRuntime.rateLimitOf). Each reader is total: any line, hostile or
 * garbage, gives a signal or null and never throws.
 */
import type { RateLimitSignal } from './runtime.js';
import { isObject, num, parseTypedLine, str } from './stream-util.js';

/** An epoch in seconds or milliseconds (vendors use both) as epoch ms; undefined when not a plausible time. */
export function epochMs(value: unknown): number | undefined {
  const n = num(value) ?? (typeof value === 'string' && /^\d{9,13}$/.test(value) ? Number(value) : undefined);
  if (n === undefined || n <= 0) {
    if (typeof value === 'string') {
      const parsed = Date.parse(value);
      return Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
    }
    return undefined;
  }
  return n < 1e12 ? Math.round(n * 1000) : Math.round(n);
}

/**
 * Claude Code's `{"type":"rate_limit_event","rate_limit_info":{"status":
 * "allowed"|"allowed_warning"|"rejected","resetsAt":<epoch s>,
 * "rateLimitType":"five_hour"|"seven_day"|…}}`. `allowed` is no signal.
 */
export function claudeRateLimit(status: unknown, resetsAt: unknown): RateLimitSignal | null {
  const state = status === 'rejected' ? 'rejected' : status === 'allowed_warning' ? 'warning' : null;
  if (state === null) return null;
  const at = epochMs(resetsAt);
  return at === undefined ? { state } : { state, resetsAt: at };
}

export function claudeRateLimitOfLine(line: string): RateLimitSignal | null {
  if (!line.includes('rate_limit_event')) return null;
  const obj = parseTypedLine(line);
  if (obj === null || obj.type !== 'rate_limit_event' || !isObject(obj.rate_limit_info)) return null;
  return claudeRateLimit(str(obj.rate_limit_info.status), obj.rate_limit_info.resetsAt);
}

/**
 * Words vendors use when they refuse for a rate or quota limit (OpenAI
 * `429 Too Many Requests` / `rate_limit_exceeded` / "usage limit", Google
 * `RESOURCE_EXHAUSTED` / "Quota exceeded", Anthropic `rate_limit_error`).
 */
const RATE_LIMIT_RE = /\b429\b|too many requests|rate[ _-]?limit(?:ed|_exceeded|_error)?\b|resource[ _]exhausted|quota exceeded|exceeded your current quota|usage limit/i;

/** Whether a runtime's error message names a rate or quota limit. */
export function mentionsRateLimit(message: string): boolean {
  return RATE_LIMIT_RE.test(message);
}

function unitMs(unit: string): number {
  const u = unit.toLowerCase();
  if (u === 'ms') return 1;
  if (u.startsWith('h')) return 3_600_000;
  if (u.startsWith('m')) return 60_000;
  return 1000;
}

/**
 * When an error message says the limit lifts: "try again in 20s", "retry
 * after 3 minutes", "Please retry in 12.5s", "resets at 2026-12-06T14:05:00Z".
 * `now` is the time the message is read (the line carries none of its own).
 */
export function resetFromMessage(message: string, now: number): number | undefined {
  const rel = /(?:try again|retry)(?: after| in)?\s+(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?|m|min|minutes?|h|hours?)\b/i.exec(message);
  if (rel) {
    return now + Math.round(Number(rel[1]) * unitMs(rel[2]!));
  }
  const abs = /reset(?:s)?(?: at| on)?\s+(\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)/i.exec(message);
  if (abs) {
    const at = Date.parse(abs[1]!);
    if (Number.isFinite(at)) return at;
  }
  return undefined;
}

/** A `rejected` signal for an error message that names a rate limit, with its reset when it says one. */
export function rejectedIfRateLimit(message: string, now = Date.now()): RateLimitSignal | null {
  if (!mentionsRateLimit(message)) return null;
  const at = resetFromMessage(message, now);
  return at === undefined ? { state: 'rejected' } : { state: 'rejected', resetsAt: at };
}
