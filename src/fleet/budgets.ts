import { invalid, notFound } from '../core/errors.js';
import { isValidName } from '../core/ids.js';
import type { BudgetAction, BudgetRecord, FleetStore, SpendFilter } from './store.js';
import { BUDGET_PERIODS, windowOf, type BudgetPeriod } from './windows.js';

/** The largest fleet budget, in USD. */
export const MAX_FLEET_BUDGET_USD = 1_000_000;
const PEER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What a peer's grant says about spend (the spoke's view of a connection). */
export interface PeerSpendView {
  name: string;
  instanceId: string;
  maxCostUsdPerDay?: number;
}

/** A budget as GET /budgets shows it. */
export interface BudgetStatus {
  scope: string;
  usd: number;
  per: BudgetPeriod;
  onExhausted: BudgetAction;
  spentUsd: number;
  leftUsd: number;
  /** Epoch ms: the start of the next window. */
  resetsAt: number;
  /** Set on the daily cap a peer's grant carries (`maxCostUsdPerDay`), which is not edited here. */
  fromGrant?: boolean;
}

/** A spent budget and whom it holds: every agent (`instance`), a repository's, or one origin's (a peer's instanceId). */
export interface SpentScope {
  scope: string;
  resetsAt: number;
  onExhausted: BudgetAction;
  repo?: string;
  origin?: string;
}

export interface BudgetRequest {
  usd: number;
  per: BudgetPeriod;
  onExhausted?: BudgetAction;
}

/** `instance`, `repo:<name>` or `peer:<name>`; anything else is 400 `invalid_scope`. */
export function parseScope(scope: string): { kind: 'instance' } | { kind: 'repo' | 'peer'; name: string } {
  if (scope === 'instance') return { kind: 'instance' };
  const colon = scope.indexOf(':');
  const kind = scope.slice(0, colon);
  const name = scope.slice(colon + 1);
  if (colon > 0 && kind === 'repo' && isValidName(name)) return { kind, name };
  if (colon > 0 && kind === 'peer' && PEER_NAME_RE.test(name)) return { kind, name };
  throw invalid('invalid_scope', `scope must be instance, repo:<name> or peer:<name>, not '${scope.slice(0, 200)}'`, { field: 'scope' });
}

/** Which agents' spend a scope counts; null when it names a peer that is not connected (it counts nothing). */
function filterOf(scope: string, peers: readonly PeerSpendView[]): SpendFilter | null {
  const parsed = parseScope(scope);
  if (parsed.kind === 'instance') return {};
  if (parsed.kind === 'repo') return { repo: parsed.name };
  const peer = peers.find((p) => p.name === parsed.name || p.instanceId === parsed.name);
  return peer ? { origin: peer.instanceId } : null;
}

/**
 * Fleet budgets: USD per UTC day, week or month over a scope, stored in the
 * store (`fleet_budgets`), plus the daily cap of each peer's grant. Spend is
 * the ledger's (`fleet_spend`: every agent's latest cost, counted in the
 * window it started in). The status list is cached until something changes
 * (a budget, a cost, a window ending) and for at most a few seconds, so a
 * scheduler decision does not query the store each time.
 */
export class Budgets {
  private cache: { at: number; until: number; statuses: Array<BudgetStatus & { filter: SpendFilter | null }> } | undefined;

  constructor(
    private readonly store: FleetStore,
    private readonly peers: () => Promise<PeerSpendView[]>,
    private readonly now: () => number,
    private readonly ttlMs = 2000,
  ) {}

  /** Something changed (a cost, a budget, a grant): the next status is read again. */
  invalidate(): void {
    this.cache = undefined;
  }

  async put(scope: string, request: BudgetRequest): Promise<BudgetStatus> {
    parseScope(scope);
    if (!(BUDGET_PERIODS as readonly string[]).includes(request.per)) throw invalid('invalid_budget', `per must be one of ${BUDGET_PERIODS.join(', ')}`, { field: 'per' });
    if (!Number.isFinite(request.usd) || request.usd <= 0 || request.usd > MAX_FLEET_BUDGET_USD) {
      throw invalid('invalid_budget', `usd must be a number above 0 and at most ${MAX_FLEET_BUDGET_USD}`, { field: 'usd' });
    }
    await this.store.putBudget({ scope, usd: request.usd, per: request.per, onExhausted: request.onExhausted ?? 'queue' }, this.now());
    this.invalidate();
    return this.get(scope);
  }

  async get(scope: string): Promise<BudgetStatus> {
    parseScope(scope);
    const found = (await this.list()).find((b) => b.scope === scope && b.fromGrant !== true);
    if (!found) throw notFound('budget_not_found', `no budget for scope '${scope}'`);
    return found;
  }

  async remove(scope: string): Promise<void> {
    parseScope(scope);
    if (!(await this.store.removeBudget(scope))) throw notFound('budget_not_found', `no budget for scope '${scope}'`);
    this.invalidate();
  }

  /** Every budget with what is spent and left in its current window (grant caps after the stored ones). */
  async list(): Promise<BudgetStatus[]> {
    return (await this.statuses()).map(({ filter: _filter, ...status }) => status);
  }

  /** The budgets spent now (nothing left in their window). */
  async spent(): Promise<SpentScope[]> {
    const out: SpentScope[] = [];
    for (const s of await this.statuses()) {
      if (s.leftUsd > 0 || s.filter === null) continue;
      out.push({ scope: s.scope, resetsAt: s.resetsAt, onExhausted: s.onExhausted, ...s.filter });
    }
    return out;
  }

  private async statuses(): Promise<Array<BudgetStatus & { filter: SpendFilter | null }>> {
    const now = this.now();
    if (this.cache && now < this.cache.until && now - this.cache.at < this.ttlMs) return this.cache.statuses;
    const peers = await this.peers();
    const rows: Array<Omit<BudgetRecord, 'createdAt' | 'updatedAt'> & { fromGrant?: boolean }> = await this.store.budgets();
    for (const peer of peers) {
      if (peer.maxCostUsdPerDay !== undefined) rows.push({ scope: `peer:${peer.name}`, usd: peer.maxCostUsdPerDay, per: 'day', onExhausted: 'queue', fromGrant: true });
    }
    const statuses: Array<BudgetStatus & { filter: SpendFilter | null }> = [];
    let until = Number.POSITIVE_INFINITY;
    for (const row of rows) {
      const window = windowOf(row.per, now);
      until = Math.min(until, window.resetsAt);
      const filter = filterOf(row.scope, peers);
      const spentUsd = filter === null ? 0 : await this.store.spent(window.start, filter);
      statuses.push({
        scope: row.scope, usd: row.usd, per: row.per, onExhausted: row.onExhausted,
        spentUsd: round(spentUsd), leftUsd: round(Math.max(0, row.usd - spentUsd)), resetsAt: window.resetsAt,
        ...(row.fromGrant ? { fromGrant: true } : {}), filter,
      });
    }
    this.cache = { at: now, until, statuses };
    return statuses;
  }
}

/** Money to a millionth of a dollar: sums of floats print as 0.30000000000000004 otherwise. */
const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;
