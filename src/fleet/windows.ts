/** Budget windows: calendar periods in UTC. */

export const BUDGET_PERIODS = ['day', 'week', 'month'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const DAY_MS = 86_400_000;

/**
 * The window `now` falls in: a UTC day, a week from Monday 00:00 UTC, or a
 * calendar month (UTC). `resetsAt` is the first millisecond of the next one.
 */
export function windowOf(per: BudgetPeriod, now: number): { start: number; resetsAt: number } {
  const d = new Date(now);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (per === 'day') return { start: dayStart, resetsAt: dayStart + DAY_MS };
  if (per === 'week') {
    const sinceMonday = (d.getUTCDay() + 6) % 7;
    const start = dayStart - sinceMonday * DAY_MS;
    return { start, resetsAt: start + 7 * DAY_MS };
  }
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), resetsAt: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}
