import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Federation, FederationPruned } from '../federation/index.js';
import type { SqlStore } from '../store/index.js';

/** How often the store is pruned while the server runs (and once at start). */
export const RETENTION_INTERVAL_MS = 10 * 60_000;
const DAY_MS = 24 * 3600_000;

export interface Pruned extends FederationPruned {
  events: number;
  /** Database pages given back to the file system. */
  pagesFreed: number;
}

/**
 * Keeps what peers and agents make the store grow within the configured
 * retention: the federation's tracked messages, outbox and replay cache,
 * then events (older than `retentionDays` or past the newest
 * `retentionMaxRows`, but never one still waiting in the outbox for a peer),
 * then gives the freed pages back. Agents' records are not touched.
 */
export async function pruneStore(store: SqlStore, federation: Federation, config: Config, now = Date.now()): Promise<Pruned> {
  const fed = await federation.prune(now);
  const keepFrom = await federation.store.outbox.oldestPendingSeq();
  const events = await store.events.prune({ before: now - config.retentionDays * DAY_MS, maxRows: config.retentionMaxRows, keepFrom });
  const pagesFreed = await store.reclaimSpace();
  return { ...fed, events, pagesFreed };
}

/** Prunes now and every RETENTION_INTERVAL_MS; the timer never keeps the process alive. Returns a stop function. */
export function startRetention(store: SqlStore, federation: Federation, config: Config, logger: Logger): () => void {
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    pruneStore(store, federation, config)
      .then((pruned) => {
        if (pruned.events + pruned.messages + pruned.outbox + pruned.seen > 0) logger.info({ pruned }, 'store pruned');
      })
      .catch((err: unknown) => logger.error({ err }, 'store pruning failed'))
      .finally(() => { running = false; });
  };
  run();
  const timer = setInterval(run, RETENTION_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
