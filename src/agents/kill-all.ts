export interface KillAllReport {
  total: number;
  killed: number;
  failed: number;
  errors: { agentId: string; code: string; message: string }[];
}

/**
 * Kills every item at once and accounts for the outcome. An agent that ended
 * on its own meanwhile (`agent_not_active`) needed no kill and is not counted.
 */
export async function killEach<T>(items: readonly T[], idOf: (item: T) => string, kill: (item: T) => Promise<unknown>, into?: KillAllReport): Promise<KillAllReport> {
  const report = into ?? { total: 0, killed: 0, failed: 0, errors: [] };
  report.total += items.length;
  await Promise.all(items.map(async (item) => {
    try {
      await kill(item);
      report.killed += 1;
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === 'agent_not_active') {
        report.total -= 1;
        return;
      }
      report.failed += 1;
      report.errors.push({ agentId: idOf(item), code: e.code ?? 'kill_failed', message: e.message ?? String(err) });
    }
  }));
  return report;
}
