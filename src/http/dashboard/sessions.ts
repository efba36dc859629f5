import { createHash, randomBytes } from 'node:crypto';

/** How long a login code from `mosaic dashboard` may be exchanged. */
export const LOGIN_CODE_TTL_MS = 2 * 60_000;
/** How long a dashboard session lasts from sign-in (absolute, not sliding). */
export const SESSION_TTL_MS = 12 * 3600_000;
/** Outstanding codes and sessions are bounded: a loop asking for codes cannot grow memory. */
const MAX_CODES = 64;
const MAX_SESSIONS = 256;

export interface SessionOptions {
  loginCodeTtlMs?: number;
  sessionTtlMs?: number;
  now?: () => number;
}

/** Secrets are kept only as hashes, so a heap dump or a log line never holds a usable one. */
const digest = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
const newSecret = (): string => randomBytes(32).toString('base64url');

/**
 * Dashboard sign-in state, in memory (a restart signs everyone out, which is
 * the safe direction): one-time login codes and the sessions they became.
 */
export class DashboardSessions {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  private readonly codeTtlMs: number;
  private readonly sessionTtlMs: number;
  private readonly now: () => number;

  constructor(opts: SessionOptions = {}) {
    this.codeTtlMs = opts.loginCodeTtlMs ?? LOGIN_CODE_TTL_MS;
    this.sessionTtlMs = opts.sessionTtlMs ?? SESSION_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  /** A new single-use login code; the oldest outstanding one goes when too many are waiting. */
  issueCode(): { code: string; expiresAt: number } {
    this.prune(this.codes);
    const code = newSecret();
    const expiresAt = this.now() + this.codeTtlMs;
    evictOldest(this.codes, MAX_CODES);
    this.codes.set(digest(code), expiresAt);
    return { code, expiresAt };
  }

  /** Spends a login code: true once, for an unexpired code; every later try is false. */
  redeemCode(code: string): boolean {
    const key = digest(code);
    const expiresAt = this.codes.get(key);
    this.codes.delete(key);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  /** A new session id (the cookie value) and when it ends. */
  openSession(): { id: string; expiresAt: number } {
    this.prune(this.sessions);
    const id = newSecret();
    const expiresAt = this.now() + this.sessionTtlMs;
    evictOldest(this.sessions, MAX_SESSIONS);
    this.sessions.set(digest(id), expiresAt);
    return { id, expiresAt };
  }

  /** When the session ends, or undefined when it is unknown or over. */
  sessionExpiry(id: string): number | undefined {
    const key = digest(id);
    const expiresAt = this.sessions.get(key);
    if (expiresAt === undefined) return undefined;
    if (expiresAt <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    return expiresAt;
  }

  closeSession(id: string): void {
    this.sessions.delete(digest(id));
  }

  private prune(map: Map<string, number>): void {
    const now = this.now();
    for (const [key, expiresAt] of map) if (expiresAt <= now) map.delete(key);
  }
}

/** Maps keep insertion order, and entries are inserted in expiry order: the first is the oldest. */
function evictOldest(map: Map<string, number>, max: number): void {
  while (map.size >= max) {
    const first = map.keys().next();
    if (first.done) return;
    map.delete(first.value);
  }
}
