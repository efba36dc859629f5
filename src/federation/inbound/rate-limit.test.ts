import { describe, expect, it } from 'vitest';
import { PeerRateLimiter } from './rate-limit.js';

describe('PeerRateLimiter', () => {
  it('allows max per window per key, then 429 rate_limited until the window turns', () => {
    let now = 1000;
    const limiter = new PeerRateLimiter(2, 60_000, () => now);
    limiter.take('a');
    limiter.take('a');
    expect(() => limiter.take('a')).toThrow(expect.objectContaining({ status: 429, code: 'rate_limited' }));
    limiter.take('b');
    now += 60_000;
    expect(() => limiter.take('a')).not.toThrow();
  });
});
