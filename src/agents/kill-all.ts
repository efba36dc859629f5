export interface KillAllReport {
  total: number;
  killed: number;
  failed: number;
  /** Kills that failed; `peer` names the instance running a remote agent that could not be reached. */
  errors: { agentId: string; code: string; message: string; peer?: string }[];
  /**
   * Remote agents left unfinished here by a peer that is disconnected: no
   * kill can reach them (that peer's admin can), so they are neither killed
   * nor failed; `discard --force` forgets them.
   */
  orphaned?: { agentId: string; peer: string }[];
}

/**
 * Kills every item at once and accounts for the outcome. An agent that ended
 * on its own meanwhile (`agent_not_active`) needed no kill and is not counted.
 */
export async function killEach<T>(
  items: readonly T[], idOf: (item: T) => string, kill: (item: T) => Promise<unknown>, into?: KillAllReport, peerOf?: (item: T) => string,
): Promise<KillAllReport> {
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
      report.errors.push({ agentId: idOf(item), code: e.code ?? 'kill_failed', message: e.message ?? String(err), ...(peerOf ? { peer: peerOf(item) } : {}) });
    }
  }));
  return report;
}
