import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Federation, FederationPruned } from '../federation/index.js';
import type { SqliteStore } from '../store/index.js';

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
export function pruneStore(store: SqliteStore, federation: Federation, config: Config, now = Date.now()): Pruned {
  const fed = federation.prune(now);
  const keepFrom = federation.store.outbox.oldestPendingSeq();
  const events = store.events.prune({ before: now - config.retentionDays * DAY_MS, maxRows: config.retentionMaxRows, keepFrom });
  const pagesFreed = store.reclaimSpace();
  return { ...fed, events, pagesFreed };
}

/** Prunes now and every RETENTION_INTERVAL_MS; the timer never keeps the process alive. Returns a stop function. */
export function startRetention(store: SqliteStore, federation: Federation, config: Config, logger: Logger): () => void {
  const run = () => {
    try {
      const pruned = pruneStore(store, federation, config);
      if (pruned.events + pruned.messages + pruned.outbox + pruned.seen > 0) logger.info({ pruned }, 'store pruned');
    } catch (err) {
      logger.error({ err }, 'store pruning failed');
    }
  };
  run();
  const timer = setInterval(run, RETENTION_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
