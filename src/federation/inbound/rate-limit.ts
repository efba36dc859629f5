import { tooMany } from '../../core/errors.js';

const MAX_TRACKED = 10_000;

/**
 * A fixed-window counter per key (a verified sender's instance id). A
 * CONNECT is verified with the key it carries, so anyone can appear as a new
 * sender: windows that have run out are dropped whenever many are held.
 */
export class PeerRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  /** `now` is monotonic by default: a wall clock stepped back must not stretch a window. */
  constructor(private readonly max: number, private readonly windowMs = 60_000, private readonly now: () => number = () => performance.now()) {}

  /** Counts one message; throws 429 `rate_limited` once the key is over its limit in the current window. */
  take(key: string): void {
    const now = this.now();
    if (this.windows.size >= MAX_TRACKED) this.forgetExpired(now);
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count > this.max) {
      const retryAfterS = Math.ceil((window.start + this.windowMs - now) / 1000);
      throw tooMany('rate_limited', `this peer may send ${this.max} messages per ${this.windowMs / 1000}s; retry in ${retryAfterS}s`, { retryAfterS });
    }
  }

  private forgetExpired(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= this.windowMs) this.windows.delete(key);
  }
}
