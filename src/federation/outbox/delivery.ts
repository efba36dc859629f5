import { isMosaicError } from '../../core/errors.js';
import { targetOf, type FederationContext } from '../context.js';
import { deterministicUuid } from '../outbound/index.js';
import { GRANT_CHANGED } from '../protocol/index.js';
import type { ConnectionRecord, OutboxRow } from '../store/index.js';
import { outboxEvent } from './events.js';

export interface DeliveryOptions {
  /** First wait after a failed attempt; doubles per attempt up to config.fedRetryMaxMs. */
  baseBackoffMs?: number;
  /** How often peers with due rows are looked for (besides the nudges). */
  tickMs?: number;
}

/**
 * A refusal that a later attempt would get again (any 4xx but 408 and 429):
 * the row is given up so later events are not held back by it.
 */
export function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * Drains the outbox: for each active peer, its events in seq order, one at a
 * time, as EVENT messages whose id is derived from the seq, so every retry
 * (and every retry after a restart) is recognised by the peer as the same
 * message. A failed attempt holds that peer's queue back, with exponential
 * backoff, so events arrive in order.
 */
export class OutboxDelivery {
  private readonly draining = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  /** Grant notices that failed: when each peer's may be tried again, and how often it failed (in memory: a restart retries at once). */
  private readonly noticeBackoff = new Map<string, { attempts: number; at: number }>();
  private readonly abort = new AbortController();
  private readonly baseBackoffMs: number;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** A scan of every peer is running: a wake meanwhile adds nothing. */
  private scanning = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: FederationContext, opts: DeliveryOptions = {}) {
    this.baseBackoffMs = opts.baseBackoffMs ?? 250;
    this.tickMs = opts.tickMs ?? Math.min(1000, Math.max(50, Math.floor(ctx.config.fedRetryMaxMs / 4)));
  }

  start(): void {
    this.unsubscribe = this.ctx.bus.subscribe((event) => {
      if (event.data.origin !== 'local' && event.data.origin !== this.ctx.identity.instanceId) this.wake(event.data.origin);
    });
    this.timer = setInterval(() => this.wake(), this.tickMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    this.abort.abort();
    await Promise.allSettled([...this.draining.values()]);
  }

  /** Drains one peer now, or every peer whose next attempt is due. */
  wake(peer?: string): void {
    if (this.abort.signal.aborted) return;
    if (peer !== undefined) {
      this.drain(peer);
      return;
    }
    if (this.scanning) return;
    this.scanning = true;
    void this.scan().finally(() => { this.scanning = false; });
  }

  /** Drains every peer whose next attempt is due. A store that cannot be reached pauses delivery until a later scan. */
  private async scan(): Promise<void> {
    const now = Date.now();
    try {
      for (const row of await this.ctx.store.outbox.peersWithPending()) if (this.isDue(row.due, now)) this.drain(row.peer);
      for (const conn of await this.ctx.store.connections.list()) if (this.noticeDue(conn, now)) this.drain(conn.instanceId);
    } catch (err) {
      this.ctx.logger.error({ err }, 'outbox scan failed');
    }
  }

  private drain(peer: string): void {
    if (this.draining.has(peer)) {
      this.again.add(peer);
      return;
    }
    const run = (async () => {
      do {
        this.again.delete(peer);
        await this.deliver(peer);
      } while (this.again.has(peer) && !this.abort.signal.aborted);
    })()
      .catch((err: unknown) => this.ctx.logger.error({ err, peer }, 'outbox delivery failed'))
      .finally(() => this.draining.delete(peer));
    this.draining.set(peer, run);
  }

  /**
   * Whether a row's next attempt is due. Retries are never scheduled more
   * than fedRetryMaxMs ahead, so a due time further out than that means the
   * wall clock was stepped back since: the row is due now rather than held
   * back by the size of the step.
   */
  private isDue(at: number, now: number): boolean {
    return at <= now || at - now > this.ctx.config.fedRetryMaxMs + this.baseBackoffMs;
  }

  private async deliver(peer: string): Promise<void> {
    const { store } = this.ctx;
    for (;;) {
      if (this.abort.signal.aborted) return;
      const conn = await store.connections.byInstance(peer);
      if (!conn || conn.state !== 'active') return;
      if (this.noticeDue(conn, Date.now())) await this.sendGrantNotice(conn);
      const rows = await store.outbox.pending(peer, 50);
      if (rows.length === 0) return;
      for (const row of rows) {
        if (!this.isDue(row.nextAttemptAt, Date.now())) return;
        if (!(await this.send(targetOf(conn), row))) return;
      }
    }
  }

  /** One attempt at one row; false when the peer's queue must wait. */
  private async send(target: ReturnType<typeof targetOf>, row: OutboxRow): Promise<boolean> {
    const { store, identity } = this.ctx;
    const event = await outboxEvent(this.ctx, row);
    if (!event) {
      await store.outbox.failed(row.peer, row.seq, 'the event is no longer in the log');
      return true;
    }
    const id = deterministicUuid('mosaic-event', identity.instanceId, row.peer, String(row.seq));
    try {
      const { status, response } = await this.ctx.messenger.exchange(target, 'EVENT', { event: event.event, agent: event.agent, seq: event.seq }, {
        id, op: event.event, retries: 0, signal: this.abort.signal,
      });
      if (response.body.ok) {
        await store.outbox.delivered(row.peer, row.seq, Date.now());
        return true;
      }
      // A clock that is off is fixed by an admin; the event must wait for that, not be dropped.
      if (isPermanent(status) && response.body.error.code !== 'clock_skew') {
        await this.giveUp(row, status, response.body.error.code, response.body.error.message);
        return true;
      }
      await this.retryLater(row, response.body.error.code);
      return false;
    } catch (err) {
      if (this.abort.signal.aborted) return false;
      // A refusal without a signed RESPONSE (e.g. a proxy's or the peer's body limit answering 413) is final too.
      const peerStatus = isMosaicError(err) && typeof err.details?.peerStatus === 'number' ? err.details.peerStatus : undefined;
      if (peerStatus !== undefined && isPermanent(peerStatus)) {
        await this.giveUp(row, peerStatus, isMosaicError(err) ? err.code : 'peer_rejected', (err as Error).message);
        return true;
      }
      await this.retryLater(row, isMosaicError(err) ? err.code : String(err));
      return false;
    }
  }

  /** Whether the peer must still be told of this side's grants, and its last failed attempt's backoff is over. */
  private noticeDue(conn: ConnectionRecord, now: number): boolean {
    if (conn.state !== 'active' || conn.grantsVersion <= conn.grantsNotified) return false;
    const backoff = this.noticeBackoff.get(conn.instanceId);
    return backoff === undefined || this.isDue(backoff.at, now);
  }

  /**
   * EVENT `grant.changed` with the connection's current grants and their
   * version. Only the latest grants are owed (several changes while the peer
   * is away make one notice); the id is derived from the version, so a retry
   * whose first answer was lost is recognised by the peer. A refusal for good
   * (a peer that does not know the notice) stops the retries.
   */
  private async sendGrantNotice(conn: ConnectionRecord): Promise<void> {
    const version = conn.grantsVersion;
    const id = deterministicUuid('mosaic-grant-notice', this.ctx.identity.instanceId, conn.instanceId, String(version));
    let status: number | undefined;
    let code: string;
    try {
      const answer = await this.ctx.messenger.exchange(targetOf(conn), 'EVENT', { event: GRANT_CHANGED, grants: { ...conn.grants }, version }, {
        id, op: GRANT_CHANGED, retries: 0, signal: this.abort.signal,
      });
      if (answer.response.body.ok) {
        await this.ctx.store.connections.markGrantsNotified(conn.id, version);
        this.noticeBackoff.delete(conn.instanceId);
        return;
      }
      status = answer.status;
      code = answer.response.body.error.code;
    } catch (err) {
      if (this.abort.signal.aborted) return;
      status = isMosaicError(err) && typeof err.details?.peerStatus === 'number' ? err.details.peerStatus : undefined;
      code = isMosaicError(err) ? err.code : String(err);
    }
    if (status !== undefined && isPermanent(status) && code !== 'clock_skew') {
      this.ctx.logger.warn({ peer: conn.instanceId, status, code }, 'peer refused the grant notice for good; not sending it again');
      await this.ctx.store.connections.markGrantsNotified(conn.id, version);
      this.noticeBackoff.delete(conn.instanceId);
      return;
    }
    const attempts = (this.noticeBackoff.get(conn.instanceId)?.attempts ?? 0) + 1;
    const step = Math.min(this.ctx.config.fedRetryMaxMs, this.baseBackoffMs * 2 ** Math.min(attempts, 20));
    this.noticeBackoff.set(conn.instanceId, { attempts, at: Date.now() + step / 2 + Math.random() * (step / 2) });
  }

  private async giveUp(row: OutboxRow, status: number, code: string, message: string): Promise<void> {
    this.ctx.logger.warn({ peer: row.peer, seq: row.seq, status, code }, 'peer refused an event for good; skipping it');
    await this.ctx.store.outbox.failed(row.peer, row.seq, `${status} ${code}: ${message}`);
  }

  private async retryLater(row: OutboxRow, reason: string): Promise<void> {
    const step = Math.min(this.ctx.config.fedRetryMaxMs, this.baseBackoffMs * 2 ** Math.min(row.attempts, 20));
    const delay = step / 2 + Math.random() * (step / 2);
    await this.ctx.store.outbox.retryLater(row.peer, row.seq, Date.now() + delay, reason);
  }
}
