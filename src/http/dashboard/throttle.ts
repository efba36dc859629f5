import { tooMany } from '../../core/errors.js';

/** Failed sign-ins (admin token or login code) one address may make per window. */
export const SIGN_IN_MAX_FAILURES = 10;
export const SIGN_IN_WINDOW_MS = 5 * 60_000;
/** Addresses tracked at once: past it, finished windows go first, then the oldest (memory stays bounded). */
const MAX_TRACKED = 10_000;

export interface ThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  /** Monotonic by default: a wall clock stepped back must not stretch a window. */
  now?: () => number;
}

/**
 * Guessing throttle for the dashboard's sign-in: the pasted admin token and
 * the login code of `/login?code=`, one budget per source address for both.
 * An attempt is counted before its secret is looked at (so concurrent
 * guesses cannot slip past the count) and given back when it succeeds; once
 * an address has used up its failures, every attempt from it is refused
 * with 429 `rate_limited` until the window ends, the right secret included.
 */
export class SignInThrottle {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(opts: ThrottleOptions = {}) {
    this.maxFailures = opts.maxFailures ?? SIGN_IN_MAX_FAILURES;
    this.windowMs = opts.windowMs ?? SIGN_IN_WINDOW_MS;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Counts one attempt from `address`; call `succeeded()` on the result when the secret was right. */
  attempt(address: string): { succeeded(): void } {
    const now = this.now();
    let window = this.windows.get(address);
    if (!window || now - window.start >= this.windowMs) {
      this.makeRoom(now);
      window = { start: now, count: 0 };
      this.windows.set(address, window);
    }
    if (window.count >= this.maxFailures) {
      const retryAfterS = Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000));
      throw tooMany('rate_limited', `too many failed sign-ins from this address; retry in ${retryAfterS}s`, { retryAfterS });
    }
    window.count += 1;
    const counted = window;
    return { succeeded: () => { counted.count = Math.max(0, counted.count - 1); } };
  }

  private makeRoom(now: number): void {
    if (this.windows.size < MAX_TRACKED) return;
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
    for (const key of this.windows.keys()) {
      if (this.windows.size < MAX_TRACKED) break;
      this.windows.delete(key);
    }
  }
}
