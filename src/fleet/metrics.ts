import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventBus } from '../agents/event-bus.js';
import type { TimingsListener } from '../agents/recorder.js';
import type { AgentWaiting, RuntimeSpec } from '../core/agent-model.js';
import type { SqlStore } from '../store/index.js';
import type { FleetGovernor } from './governor.js';
import { FleetStore } from './store.js';

export interface MetricsDeps {
  store: SqlStore;
  bus: EventBus;
  governor: FleetGovernor;
  /** Undelivered federation events per peer (connection name, else instanceId); none without federation. */
  outboxDepths?: () => Promise<Array<{ peer: string; depth: number }>>;
  /** The connection name of a peer's instanceId (agents' origins), when known. */
  peerName?: (instanceId: string) => Promise<string | undefined>;
  /** The phases' timings as this process records them on its agents (AgentService.onTimings). */
  onTimings?: (listener: TimingsListener) => () => void;
}

function parse<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/**
 * The Prometheus metrics of one instance (prom-client, a registry of its
 * own): gauges read from the store when scraped, the cost and token
 * counters from the spend ledger (which only grows), and the
 * spawn-to-running histogram observed from the agents' transitions.
 */
export class FleetMetrics {
  readonly registry = new Registry();
  private readonly unsubscribe: () => void;
  private readonly stopTimings: () => void;

  constructor(deps: MetricsDeps) {
    const { store, governor } = deps;
    const db = store.sql.db;
    const fleet = new FleetStore(store);
    const registers = [this.registry];

    new Gauge({
      name: 'mosaic_agents', help: 'Agents by state and runtime (records in the store)', labelNames: ['state', 'runtime'], registers,
      async collect() {
        this.reset();
        const rows = await db.selectFrom('agents').select(['state', 'runtime', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy(['state', 'runtime']).execute();
        for (const r of rows) this.inc({ state: r.state, runtime: parse<RuntimeSpec>(r.runtime)?.kind ?? 'unknown' }, Number(r.n));
      },
    });

    new Gauge({
      name: 'mosaic_agents_waiting', help: 'Queued agents held by a spent budget or a paused runtime, by reason', labelNames: ['reason'], registers,
      async collect() {
        this.reset();
        this.set({ reason: 'budget' }, 0);
        this.set({ reason: 'rate_limit' }, 0);
        const rows = await db.selectFrom('agents').select(['waiting_for', (eb) => eb.fn.countAll<number | string>().as('n')])
          .where('state', '=', 'queued').where('waiting_for', 'is not', null).groupBy('waiting_for').execute();
        for (const r of rows) {
          const reason = parse<AgentWaiting>(r.waiting_for)?.reason;
          if (reason) this.inc({ reason }, Number(r.n));
        }
      },
    });

    const spawnToRunning = new Histogram({
      name: 'mosaic_spawn_to_running_seconds', help: 'From a spawn accepted to its agent running (queue wait, worktree, setup)', registers,
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    });
    this.unsubscribe = deps.bus.subscribe((event) => {
      const a = event.data;
      if (event.type === 'agent.state' && a.state === 'running' && a.startedAt !== null) spawnToRunning.observe(Math.max(0, a.startedAt - a.createdAt) / 1000);
    });

    const phaseSeconds = new Histogram({
      name: 'mosaic_agent_phase_seconds', help: 'Time an agent spent in each phase (its recorded timings: queued, worktree or pool, copy, sandbox, setup, launch, run, import, snapshot, remove)',
      labelNames: ['phase'], registers,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    });
    this.stopTimings = deps.onTimings?.((agent, phases) => {
      for (const phase of phases) {
        const ms = agent.timings?.[phase];
        if (typeof ms === 'number') phaseSeconds.observe({ phase }, ms / 1000);
      }
    }) ?? (() => undefined);

    const peerLabel = async (origin: string): Promise<string> => {
      if (origin === 'local' || origin.startsWith('a2a:')) return origin;
      return (await deps.peerName?.(origin)) ?? origin;
    };
    new Counter({
      name: 'mosaic_cost_usd_total', help: 'USD spent by agents here (final or latest cost, estimates included)', labelNames: ['repo', 'runtime', 'peer'], registers,
      async collect() {
        this.reset();
        for (const t of await fleet.totals()) this.inc({ repo: t.repo, runtime: t.runtime, peer: await peerLabel(t.origin) }, t.costUsd);
      },
    });
    new Counter({
      name: 'mosaic_tokens_total', help: 'Tokens used by agents here (input includes cached, output includes reasoning)', labelNames: ['kind', 'runtime'], registers,
      async collect() {
        this.reset();
        for (const t of await fleet.totals()) {
          this.inc({ kind: 'input', runtime: t.runtime }, t.usage.inputTokens);
          this.inc({ kind: 'output', runtime: t.runtime }, t.usage.outputTokens);
          this.inc({ kind: 'cached_input', runtime: t.runtime }, t.usage.cachedInputTokens);
          this.inc({ kind: 'reasoning', runtime: t.runtime }, t.usage.reasoningTokens);
        }
      },
    });
    new Gauge({
      name: 'mosaic_budget_left_usd', help: 'USD left in each fleet budget\'s current window', labelNames: ['scope'], registers,
      async collect() {
        this.reset();
        for (const b of await governor.budgets.list()) this.set({ scope: b.scope }, b.leftUsd);
      },
    });
    new Gauge({
      name: 'mosaic_federation_outbox_depth', help: 'Agent events not yet delivered to the peer that spawned the agents', labelNames: ['peer'], registers,
      async collect() {
        this.reset();
        for (const d of (await deps.outboxDepths?.()) ?? []) this.set({ peer: d.peer }, d.depth);
      },
    });
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    this.unsubscribe();
    this.stopTimings();
  }
}
