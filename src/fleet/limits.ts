import type { RateLimitSignal } from '../agents/gate.js';
import type { Logger } from '../core/logger.js';
import type { FleetStore, LimitRecord } from './store.js';

/** How long a runtime is paused when it refused for its rate limit without saying until when. */
export const DEFAULT_PAUSE_MS = 60_000;
/** How long a warning without a reset time is shown. */
const DEFAULT_WARNING_MS = 5 * 60_000;

/**
 * Runtimes' rate limits as their streams report them: `rejected` pauses
 * starting agents of that runtime until the reset (only ever extended by a
 * later signal, never shortened); `warning` is shown and pauses nothing;
 * `allowed` clears a warning. Kept in memory and in `fleet_limits`, so a
 * restart during a pause keeps it.
 */
export class RateLimits {
  private readonly byRuntime = new Map<string, LimitRecord>();
  /** When each runtime last refused (in this process). */
  private readonly lastRejected = new Map<string, number>();

  constructor(
    private readonly store: FleetStore,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  async load(): Promise<void> {
    const now = this.now();
    for (const limit of await this.store.limits()) {
      if (limit.resetsAt > now) this.byRuntime.set(limit.runtime, limit);
    }
  }

  /** Applies a signal; true when a pause began or got longer (queued agents of that runtime now wait). */
  seen(runtime: string, signal: RateLimitSignal): boolean {
    const now = this.now();
    const current = this.active(now).find((l) => l.runtime === runtime);
    if (signal.state === 'rejected') {
      this.lastRejected.set(runtime, now);
      const resetsAt = signal.resetsAt !== undefined && signal.resetsAt > now ? signal.resetsAt : now + DEFAULT_PAUSE_MS;
      if (current?.state === 'paused' && current.resetsAt >= resetsAt) return false;
      this.set({ runtime, state: 'paused', resetsAt });
      this.logger.warn({ runtime, resetsAt: new Date(resetsAt).toISOString() }, 'runtime rate-limited: its agents wait until the reset');
      return true;
    }
    if (signal.state === 'warning') {
      if (current?.state === 'paused') return false;
      const resetsAt = signal.resetsAt !== undefined && signal.resetsAt > now ? signal.resetsAt : now + DEFAULT_WARNING_MS;
      if (current?.state !== 'warning' || current.resetsAt !== resetsAt) this.set({ runtime, state: 'warning', resetsAt });
      return false;
    }
    if (current?.state === 'warning') {
      this.byRuntime.delete(runtime);
      void this.store.removeLimit(runtime).catch((err: unknown) => this.logger.warn({ err, runtime }, 'could not clear a rate-limit warning'));
    }
    return false;
  }

  /** Whether the runtime refused for its rate limit at or after `since` (epoch ms). */
  rejectedSince(runtime: string, since: number): boolean {
    return (this.lastRejected.get(runtime) ?? -1) >= since;
  }

  /** Limits in force now (a limit past its reset is gone). */
  active(now = this.now()): LimitRecord[] {
    return [...this.byRuntime.values()].filter((l) => l.resetsAt > now).sort((a, b) => a.runtime.localeCompare(b.runtime));
  }

  /** Runtimes paused now, with when each resumes. */
  paused(now = this.now()): Map<string, number> {
    return new Map(this.active(now).filter((l) => l.state === 'paused').map((l) => [l.runtime, l.resetsAt]));
  }

  private set(limit: LimitRecord): void {
    this.byRuntime.set(limit.runtime, limit);
    void this.store.putLimit(limit, this.now()).catch((err: unknown) => this.logger.warn({ err, runtime: limit.runtime }, 'could not record a rate limit'));
  }
}
