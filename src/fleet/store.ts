import type { Kysely } from 'kysely';
import type { CoreTables, SqlContext, SqlStore } from '../store/index.js';
import type { TokenUsage } from '../core/agent-model.js';
import type { BudgetPeriod } from './windows.js';

export type BudgetAction = 'queue' | 'kill';

/** A fleet budget as stored: `usd` per window over a scope (`instance`, `repo:<name>`, `peer:<name>`). */
export interface BudgetRecord {
  scope: string;
  usd: number;
  per: BudgetPeriod;
  onExhausted: BudgetAction;
  createdAt: number;
  updatedAt: number;
}

/** One agent's latest known cost, and what it is counted under. */
export interface SpendRecord {
  agentId: string;
  repo: string;
  /** The agent's origin: `local`, a peer's instanceId, `a2a:<id>`. */
  origin: string;
  runtime: string;
  costUsd: number;
  usage: TokenUsage;
  /** When the agent started (or was created): the window its cost counts in. */
  at: number;
}

/** A runtime held by its rate limit (`paused`) or close to it (`warning`), until `resetsAt` (epoch ms). */
export interface LimitRecord {
  runtime: string;
  state: 'paused' | 'warning';
  resetsAt: number;
}

/** Which spend rows a scope counts (all of them for `instance`). */
export interface SpendFilter {
  repo?: string;
  origin?: string;
}

/** The fleet tables as the query layer sees them (conventions of store/sql/schema.ts). */
export interface FleetTables extends CoreTables {
  fleet_budgets: { scope: string; usd: number; per: string; on_exhausted: string; created_at: number; updated_at: number };
  fleet_spend: {
    agent_id: string; repo: string; origin: string; runtime: string; cost_usd: number;
    input_tokens: number; output_tokens: number; cached_input_tokens: number; reasoning_tokens: number; at: number; updated_at: number;
  };
  fleet_limits: { runtime: string; state: string; resets_at: number; updated_at: number };
}

/** The fleet tables (migration 500) on the core store's executor (SQLite or PostgreSQL). */
export class FleetStore {
  private readonly ctx: SqlContext<FleetTables>;

  constructor(store: SqlStore) {
    // The same executor, typed with the fleet tables besides the core's (their migration ran with the core's).
    this.ctx = { ...store.sql, db: store.sql.db as unknown as Kysely<FleetTables> };
  }

  async budgets(): Promise<BudgetRecord[]> {
    const rows = await this.ctx.db.selectFrom('fleet_budgets').selectAll().orderBy('scope').execute();
    return rows.map((r) => ({
      scope: r.scope, usd: Number(r.usd), per: r.per as BudgetPeriod, onExhausted: r.on_exhausted as BudgetAction, createdAt: r.created_at, updatedAt: r.updated_at,
    }));
  }

  /** Creates or replaces a scope's budget (createdAt stays on a replace). */
  async putBudget(b: Omit<BudgetRecord, 'createdAt' | 'updatedAt'>, now: number): Promise<void> {
    await this.ctx.db.insertInto('fleet_budgets')
      .values({ scope: b.scope, usd: b.usd, per: b.per, on_exhausted: b.onExhausted, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('scope').doUpdateSet({ usd: b.usd, per: b.per, on_exhausted: b.onExhausted, updated_at: now }))
      .execute();
  }

  async removeBudget(scope: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('fleet_budgets').where('scope', '=', scope).executeTakeFirst();
    return result.numDeletedRows === 1n;
  }

  /** Records an agent's latest cost (one row per agent, replaced as it grows). */
  async putSpend(s: SpendRecord, now: number): Promise<void> {
    const tokens = {
      input_tokens: s.usage.inputTokens, output_tokens: s.usage.outputTokens,
      cached_input_tokens: s.usage.cachedInputTokens, reasoning_tokens: s.usage.reasoningTokens,
    };
    await this.ctx.db.insertInto('fleet_spend')
      .values({ agent_id: s.agentId, repo: s.repo, origin: s.origin, runtime: s.runtime, cost_usd: s.costUsd, ...tokens, at: s.at, updated_at: now })
      .onConflict((oc) => oc.column('agent_id').doUpdateSet({ cost_usd: s.costUsd, ...tokens, updated_at: now }))
      .execute();
  }

  async spendOf(agentId: string): Promise<number | undefined> {
    const row = await this.ctx.db.selectFrom('fleet_spend').select('cost_usd').where('agent_id', '=', agentId).executeTakeFirst();
    return row === undefined ? undefined : Number(row.cost_usd);
  }

  /** USD spent by agents counted from `since` on, within a scope's filter. */
  async spent(since: number, filter: SpendFilter = {}): Promise<number> {
    let q = this.ctx.db.selectFrom('fleet_spend').select((eb) => eb.fn.sum<number | string | null>('cost_usd').as('total')).where('at', '>=', since);
    if (filter.repo !== undefined) q = q.where('repo', '=', filter.repo);
    if (filter.origin !== undefined) q = q.where('origin', '=', filter.origin);
    const row = await q.executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  /** Cost and tokens per (repo, runtime, origin), ever (for metrics: the ledger only grows). */
  async totals(): Promise<Array<{ repo: string; runtime: string; origin: string; costUsd: number; usage: TokenUsage }>> {
    const rows = await this.ctx.db.selectFrom('fleet_spend')
      .select((eb) => [
        'repo', 'runtime', 'origin',
        eb.fn.sum<number | string>('cost_usd').as('cost'),
        eb.fn.sum<number | string>('input_tokens').as('input'),
        eb.fn.sum<number | string>('output_tokens').as('output'),
        eb.fn.sum<number | string>('cached_input_tokens').as('cached'),
        eb.fn.sum<number | string>('reasoning_tokens').as('reasoning'),
      ])
      .groupBy(['repo', 'runtime', 'origin']).execute();
    return rows.map((r) => ({
      repo: r.repo, runtime: r.runtime, origin: r.origin, costUsd: Number(r.cost),
      usage: { inputTokens: Number(r.input), outputTokens: Number(r.output), cachedInputTokens: Number(r.cached), reasoningTokens: Number(r.reasoning) },
    }));
  }

  async limits(): Promise<LimitRecord[]> {
    const rows = await this.ctx.db.selectFrom('fleet_limits').selectAll().orderBy('runtime').execute();
    return rows.map((r) => ({ runtime: r.runtime, state: r.state as LimitRecord['state'], resetsAt: r.resets_at }));
  }

  async putLimit(l: LimitRecord, now: number): Promise<void> {
    await this.ctx.db.insertInto('fleet_limits')
      .values({ runtime: l.runtime, state: l.state, resets_at: l.resetsAt, updated_at: now })
      .onConflict((oc) => oc.column('runtime').doUpdateSet({ state: l.state, resets_at: l.resetsAt, updated_at: now }))
      .execute();
  }

  async removeLimit(runtime: string): Promise<void> {
    await this.ctx.db.deleteFrom('fleet_limits').where('runtime', '=', runtime).execute();
  }
}
