import type { RateLimitSignal as RuntimeRateLimit } from './runtimes/runtime.js';
import type { QueuedAgent, QueueSkip } from '../store/types.js';
import type { AgentRecord, AgentWaiting } from './types.js';

/** A rate-limit signal a runtime's stream reported (runtimes/runtime.ts), or `allowed`: the limit is behind. */
export type RateLimitSignal = RuntimeRateLimit | { state: 'allowed' };

/** What holds queued agents back at one moment (a snapshot, computed once per scheduler pass). */
export interface QueueHolds {
  /** Changes exactly when what is held (or until when) changes: the scheduler re-marks the whole queue then. */
  signature: string;
  /** Nothing may start (the instance budget is spent). */
  all: boolean;
  /** The same holds as the store query passes over them (what `waitingFor` says non-null for). */
  skip: QueueSkip;
  /** Why this queued agent must not start now, or null when it may. */
  waitingFor(agent: QueuedAgent): AgentWaiting | null;
}

/**
 * What the scheduler asks before starting an agent, and what it is told
 * about runtimes' rate limits: fleet governance (budgets, rate-limit
 * pauses, see src/fleet/) implements it; without one every queued agent may
 * start as soon as there is room.
 */
export interface QueueGate {
  /** What holds queued agents now; null when nothing does. Must be cheap: called once per scheduler pass. */
  holds(): Promise<QueueHolds | null>;
  /** A running agent's runtime reported a rate-limit signal (from its stream). */
  rateLimitSeen(agent: AgentRecord, signal: RateLimitSignal): void;
}
