import type { TestInstance } from './instance.js';
import { waitFor } from './wait.js';

/**
 * A setup for pool tests: takes ~0.3 s and leaves what it saw in
 * node_modules/ (ignored), counting its runs there, so a test can tell
 * whether it ran and for which lockfile.
 */
export const POOL_SETUP = ['sh', '-c',
  'sleep 0.3; mkdir -p node_modules; cp package-lock.json node_modules/.lock-seen; echo run >> node_modules/.setup-runs; echo pool-setup-output'];

export interface RepoPoolView { poolSize: number; pool: { size: number; ready: number; preparing: number; error?: string } }

/** Waits until the repository's pool holds `n` ready worktrees and prepares none. */
export async function poolReady(t: TestInstance, n: number, repo = 'app'): Promise<RepoPoolView> {
  return waitFor(async () => {
    const res = await t.api<RepoPoolView>('GET', `/repos/${repo}`);
    return res.body.pool.ready === n && res.body.pool.preparing === 0 ? res.body : null;
  }, { timeoutMs: 30_000, intervalMs: 50, what: `${n} pooled worktrees ready` });
}
