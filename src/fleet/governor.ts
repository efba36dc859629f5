import type { AgentService } from '../agents/index.js';
import type { EventBus } from '../agents/event-bus.js';
import type { QueueGate, QueueHolds, RateLimitSignal } from '../agents/gate.js';
import type { AgentEvent, AgentRecord, AgentWaiting, TokenUsage } from '../core/agent-model.js';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { QueuedAgent, SqlStore } from '../store/index.js';
import { Budgets, type BudgetRequest, type BudgetStatus, type PeerSpendView, type SpentScope } from './budgets.js';
import { RateLimits } from './limits.js';
import { FleetStore, type LimitRecord } from './store.js';

export interface GovernorDeps {
  store: SqlStore;
  agents: AgentService;
  bus: EventBus;
  logger: Logger;
  /** Retry once, after the reset, an agent that failed on its runtime's rate limit (MOSAIC_RATE_LIMIT_RETRY, default true). */
  rateLimitRetry: boolean;
  /** Connected peers with what their grants say about spend (none without federation). */
  peers?: () => Promise<PeerSpendView[]>;
  now?: () => number;
}

/** How far back start-up looks for rate-limit failures whose retry was never queued. */
const MISSED_RETRY_WINDOW_MS = 24 * 3600_000;

const ZERO: TokenUsage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };
const ACTIVE = ['spawning', 'running'] as const;

/** An agent's final cost, else its latest one (estimated ones included); undefined when none is known. */
export function costOf(agent: AgentRecord): number | undefined {
  const final = agent.result?.costUsd;
  if (typeof final === 'number') return final;
  const latest = agent.progress?.costUsd;
  return typeof latest === 'number' ? latest : undefined;
}

const usageOf = (agent: AgentRecord): TokenUsage | undefined => agent.result?.usage ?? agent.progress?.usage;
const usd = (n: number): string => `$${n.toFixed(n < 1 ? 4 : 2)}`;

/**
 * Fleet governance: what may start (QueueGate for the scheduler) given the
 * fleet budgets and the runtimes' rate limits, and what follows from the
 * agents' events: spend recorded in the ledger, agents killed past their
 * own budget or a spent `kill` budget, an agent failed on a rate limit
 * retried once after the reset. The agents module knows only QueueGate.
 */
export class FleetGovernor implements QueueGate {
  readonly budgets: Budgets;
  readonly limits: RateLimits;
  private readonly fleet: FleetStore;
  private readonly now: () => number;
  /** Latest cost and tokens written per agent, so an unchanged record writes nothing. */
  private readonly known = new Map<string, string>();
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly deps: GovernorDeps) {
    this.now = deps.now ?? Date.now;
    this.fleet = new FleetStore(deps.store);
    this.budgets = new Budgets(this.fleet, deps.peers ?? (async () => []), this.now);
    this.limits = new RateLimits(this.fleet, deps.logger, this.now);
  }

  /**
   * Loads the pauses in force and follows the agents' events; call before
   * the agents start. A rate-limit failure whose retry an earlier run did not
   * get to queue (it stopped between the two) is retried now: the retry is
   * keyed by the failed agent, so one already made is found, not doubled.
   */
  async start(): Promise<void> {
    await this.limits.load();
    this.unsubscribe = this.deps.bus.subscribe((event) => {
      this.queue = this.queue.then(() => this.onEvent(event)).catch((err: unknown) => this.deps.logger.error({ err: messageOf(err), agentId: event.agentId }, 'fleet: event not applied'));
    });
    if (!this.deps.rateLimitRetry) return;
    const since = this.now() - MISSED_RETRY_WINDOW_MS;
    const missed = (await this.deps.store.agents.list({ state: 'failed' }))
      .filter((agent) => agent.error?.code === 'rate_limited' && agent.retryOf?.reason !== 'rate_limit' && (agent.endedAt ?? 0) >= since);
    for (const agent of missed) this.queue = this.queue.then(() => this.retryRateLimited(agent)).catch((err: unknown) => this.deps.logger.error({ err: messageOf(err), agentId: agent.id }, 'fleet: rate-limit retry not queued'));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = undefined;
    await this.queue;
  }

  /** Waits until every event seen so far is applied (tests). */
  settled(): Promise<void> {
    return this.queue;
  }

  async holds(): Promise<QueueHolds | null> {
    const now = this.now();
    const paused = this.limits.paused(now);
    const spent = await this.budgets.spent();
    this.wakeAt([...paused.values(), ...spent.map((s) => s.resetsAt)]);
    if (paused.size === 0 && spent.length === 0) return null;
    const instance = spent.find((s) => s.repo === undefined && s.origin === undefined);
    const signature = JSON.stringify([[...paused].sort(), spent.map((s) => [s.scope, s.resetsAt, s.repo, s.origin])]);
    const byRepo = new Map<string, SpentScope>();
    const byOrigin = new Map<string, SpentScope>();
    for (const s of spent) {
      if (s.repo !== undefined && !byRepo.has(s.repo)) byRepo.set(s.repo, s);
      if (s.origin !== undefined && !byOrigin.has(s.origin)) byOrigin.set(s.origin, s);
    }
    return {
      signature,
      all: instance !== undefined,
      skip: { runtimes: [...paused.keys()], repos: [...byRepo.keys()], origins: [...byOrigin.keys()] },
      waitingFor(agent: QueuedAgent): AgentWaiting | null {
        const resetsAt = paused.get(agent.runtime.kind);
        if (resetsAt !== undefined) return { reason: 'rate_limit', runtime: agent.runtime.kind, resetsAt };
        const scope = instance ?? byRepo.get(agent.repo) ?? byOrigin.get(agent.origin);
        return scope ? { reason: 'budget', scope: scope.scope, resetsAt: scope.resetsAt } : null;
      },
    };
  }

  rateLimitSeen(agent: AgentRecord, signal: RateLimitSignal): void {
    // A restart reads logs again from the start: an old signal past its reset changes nothing.
    if (this.limits.seen(agent.runtime.kind, signal)) this.deps.agents.pump(); // marks the waiting agents
  }

  /** The rate limits in force (GET /limits, health, status). */
  activeLimits(): LimitRecord[] {
    return this.limits.active();
  }

  async putBudget(scope: string, request: BudgetRequest): Promise<BudgetStatus> {
    const status = await this.budgets.put(scope, request);
    await this.enforceKillBudgets();
    this.deps.agents.pump(); // raised: its waiting agents may start
    return status;
  }

  async removeBudget(scope: string): Promise<void> {
    await this.budgets.remove(scope);
    this.deps.agents.pump();
  }

  /** A grant changed (a peer's daily cap): read the caps again. */
  peersChanged(): void {
    this.budgets.invalidate();
    this.deps.agents.pump();
  }

  private async onEvent(event: AgentEvent): Promise<void> {
    const agent = event.data;
    await this.recordSpend(agent);
    if (event.type === 'agent.state' && agent.state === 'failed' && agent.error?.code === 'rate_limited') await this.retryRateLimited(agent);
  }

  private async recordSpend(agent: AgentRecord): Promise<void> {
    const cost = costOf(agent);
    const usage = usageOf(agent);
    if (cost === undefined && usage === undefined) return;
    const costUsd = cost ?? 0;
    const key = JSON.stringify([costUsd, usage ?? ZERO]);
    if (this.known.get(agent.id) === key) return;
    // Only this instance's agents: a remote agent's mirrored record is the peer's to count.
    const local = await this.deps.store.agents.get(agent.id);
    if (!local) return;
    const before = await this.fleet.spendOf(agent.id);
    await this.fleet.putSpend({
      agentId: agent.id, repo: agent.repo, origin: agent.origin, runtime: agent.runtime.kind,
      costUsd, usage: usage ?? ZERO, at: agent.startedAt ?? agent.createdAt,
    }, this.now());
    this.known.set(agent.id, key);
    if (before === costUsd) return;
    this.budgets.invalidate();
    const active = (ACTIVE as readonly string[]).includes(local.state);
    if (active && agent.budgetUsd !== null && costUsd > agent.budgetUsd && !local.killRequested) {
      await this.killFor(local, `its cost ${usd(costUsd)} passed its budget ${usd(agent.budgetUsd)}`);
    }
    await this.enforceKillBudgets();
    if ((await this.budgets.spent()).length > 0) this.deps.agents.pump(); // a scope may be spent now: mark its waiting agents
  }

  /** Spent budgets with onExhausted `kill`: their running agents are killed (budget_exceeded). */
  private async enforceKillBudgets(): Promise<void> {
    const killing = (await this.budgets.spent()).filter((s) => s.onExhausted === 'kill');
    if (killing.length === 0) return;
    for (const agent of await this.deps.store.agents.list({ state: [...ACTIVE] })) {
      const scope = killing.find((s) => (s.repo === undefined && s.origin === undefined) || s.repo === agent.repo || s.origin === agent.origin);
      if (scope && !agent.killRequested) await this.killFor(agent, `fleet budget ${scope.scope} is spent until ${new Date(scope.resetsAt).toISOString()}`);
    }
  }

  private async killFor(agent: AgentRecord, why: string): Promise<void> {
    this.deps.logger.warn({ agentId: agent.id, why }, 'fleet: killing an agent over budget');
    try {
      await this.deps.agents.kill(agent.id, { code: 'budget_exceeded', message: `killed: ${why}` });
    } catch (err) {
      this.deps.logger.debug({ agentId: agent.id, err: messageOf(err) }, 'fleet: agent ended before its budget kill');
    }
  }

  private async retryRateLimited(agent: AgentRecord): Promise<void> {
    if (!this.deps.rateLimitRetry) return;
    // The pause normally came from the stream already; without one seen since the agent started, pause the default time.
    if (!this.limits.rejectedSince(agent.runtime.kind, agent.startedAt ?? agent.createdAt)) this.limits.seen(agent.runtime.kind, { state: 'rejected' });
    const retry = await this.deps.agents.retryAfterRateLimit(agent.id);
    if (retry) this.deps.logger.info({ agentId: agent.id, retry: retry.id }, 'fleet: agent failed on a rate limit; retried once after the reset');
  }

  /** One timer at the earliest future reset, so waiting agents start by themselves. */
  private wakeAt(times: number[]): void {
    const now = this.now();
    const at = Math.min(...times.filter((t) => t > now));
    if (!Number.isFinite(at)) return;
    if (this.wake && this.wake.at <= at && this.wake.at > now) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(() => {
      this.wake = undefined;
      this.budgets.invalidate();
      this.deps.agents.pump();
    }, Math.min(at - now + 50, 2 ** 31 - 1));
    timer.unref();
    this.wake = { at, timer };
  }
}
