import { describe, expect, it } from 'vitest';
import { claudeRuntime } from './claude.js';
import { ClaudeRunStream } from './claude-run.js';
import { commandRuntime } from './command.js';
import { epochMs, rejectedIfRateLimit, resetFromMessage } from './rate-limit.js';

const event = (status: string, resetsAt?: unknown) =>
  JSON.stringify({ type: 'rate_limit_event', rate_limit_info: { status, resetsAt, rateLimitType: 'five_hour' }, session_id: 's' });

describe('rate-limit signals', () => {
  it('claude: rejected and allowed_warning with resetsAt in epoch seconds become epoch ms; allowed is none', () => {
    expect(claudeRuntime.rateLimitOf(event('rejected', 1_765_000_000))).toEqual({ state: 'rejected', resetsAt: 1_765_000_000_000 });
    expect(claudeRuntime.rateLimitOf(event('allowed_warning', 1_765_000_000))).toEqual({ state: 'warning', resetsAt: 1_765_000_000_000 });
    expect(claudeRuntime.rateLimitOf(event('rejected'))).toEqual({ state: 'rejected' });
    expect(claudeRuntime.rateLimitOf(event('allowed', 1_765_000_000))).toBeNull();
  });

  it('never throws and ignores lines that only mention it', () => {
    for (const junk of ['', 'rate_limit_event', '{"type":"rate_limit_event"}', '{"type":"assistant","text":"rate_limit_event rejected"}', '{bad', '\0']) {
      expect(() => claudeRuntime.rateLimitOf(junk)).not.toThrow();
    }
    expect(claudeRuntime.rateLimitOf('{"type":"assistant","message":{"content":[{"type":"text","text":"rate_limit_event rejected"}]}}')).toBeNull();
    expect(commandRuntime.rateLimitOf(event('rejected', 1))).toBeNull();
  });

  it('claude stream: the latest signal is on the summary, and an error after a rejection is typed rate_limited', () => {
    const stream = new ClaudeRunStream();
    expect(stream.push(event('allowed_warning', 1_765_000_000))).toEqual([{ kind: 'rate_limit', state: 'warning', resetsAt: 1_765_000_000_000 }]);
    stream.push(event('rejected', 1_765_000_100));
    stream.push(JSON.stringify({ type: 'result', subtype: 'success', is_error: true, result: 'rate limited', session_id: 's' }));
    expect(stream.summary()).toMatchObject({ isError: true, errorCode: 'rate_limited', rateLimit: { state: 'rejected', resetsAt: 1_765_000_100_000 } });
  });

  it('reads epochs in seconds, milliseconds and ISO text', () => {
    expect(epochMs(1_765_000_000)).toBe(1_765_000_000_000);
    expect(epochMs(1_765_000_000_123)).toBe(1_765_000_000_123);
    expect(epochMs('2026-12-06T14:05:00Z')).toBe(Date.parse('2026-12-06T14:05:00Z'));
    expect(epochMs(-1)).toBeUndefined();
    expect(epochMs('soon')).toBeUndefined();
  });

  it('reads a reset out of error text', () => {
    const now = 1_000_000;
    expect(resetFromMessage('Rate limit reached. Please try again in 20s.', now)).toBe(now + 20_000);
    expect(resetFromMessage('retry after 3 minutes', now)).toBe(now + 180_000);
    expect(resetFromMessage('Please retry in 12.5s', now)).toBe(now + 12_500);
    expect(resetFromMessage('usage limit; resets at 2026-12-06T14:05:00Z', now)).toBe(Date.parse('2026-12-06T14:05:00Z'));
    expect(rejectedIfRateLimit('429 Too Many Requests: try again in 1h', now)).toEqual({ state: 'rejected', resetsAt: now + 3_600_000 });
    expect(rejectedIfRateLimit('RESOURCE_EXHAUSTED: Quota exceeded', now)).toEqual({ state: 'rejected' });
    expect(rejectedIfRateLimit('permission denied', now)).toBeNull();
  });
});
