import { isMosaicError } from '../../core/errors.js';
import { targetOf, type FederationContext } from '../context.js';
import { MAX_PULL_WAIT_MS } from '../handlers/queries.js';
import { applyGrantNotice } from '../handlers/grant-notice.js';
import { EVENTS, GRANT_CHANGED, isPlainObject, parseEventBody, type EventName } from '../protocol/index.js';
import { parseRemoteAgent } from '../remote/agent-shape.js';
import type { RemoteMirror } from '../remote/mirror.js';
import type { ConnectionRecord } from '../store/index.js';

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(done, ms);
  signal.addEventListener('abort', done, { once: true });
  function done(): void {
    clearTimeout(timer);
    signal.removeEventListener('abort', done);
    resolve();
  }
});

/**
 * The hub side of pull mode, for a peer that cannot reach this instance
 * (a laptop behind NAT): for each active connection marked `pull`, a
 * long-polling QUERY `events {after, waitMs}` reads the peer's outbox. Events
 * are applied exactly as pushed ones are (once per seq, in order), so push
 * and pull may both run without duplicates.
 */
export class EventPuller {
  private readonly loops = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;

  constructor(private readonly ctx: FederationContext, private readonly mirror: RemoteMirror, private readonly tickMs = 1000) {}

  start(): void {
    this.timer = setInterval(() => this.scan(), this.tickMs);
    this.timer.unref();
    this.scan();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
    await Promise.allSettled([...this.loops.values()]);
  }

  /** Starts a loop for every pull connection that has none. */
  scan(): void {
    if (this.abort.signal.aborted || this.scanning) return;
    this.scanning = true;
    void this.startLoops()
      .catch((err: unknown) => this.ctx.logger.error({ err }, 'event pull scan failed'))
      .finally(() => { this.scanning = false; });
  }

  private async startLoops(): Promise<void> {
    for (const conn of await this.ctx.store.connections.list()) {
      if (this.abort.signal.aborted) return;
      if (!conn.pull || conn.state !== 'active' || this.loops.has(conn.id)) continue;
      const loop = this.run(conn.id)
        .catch((err: unknown) => this.ctx.logger.error({ err, peer: conn.instanceId }, 'event pull failed'))
        .finally(() => this.loops.delete(conn.id));
      this.loops.set(conn.id, loop);
    }
  }

  private async run(id: string): Promise<void> {
    const { signal } = this.abort;
    let failures = 0;
    for (;;) {
      const conn = await this.ctx.store.connections.get(id);
      if (signal.aborted || !conn || !conn.pull || conn.state !== 'active') return;
      try {
        await this.pullOnce(conn);
        failures = 0;
      } catch (err) {
        if (signal.aborted) return;
        failures += 1;
        this.ctx.logger.warn({ peer: conn.instanceId, code: isMosaicError(err) ? err.code : String(err) }, 'event pull will be retried');
        await sleep(Math.min(this.ctx.config.fedRetryMaxMs, 250 * 2 ** Math.min(failures, 20)), signal);
      }
    }
  }

  private async pullOnce(conn: ConnectionRecord): Promise<void> {
    // The peer holds the query open until an event comes or waitMs passes; it must answer within our timeout.
    const waitMs = Math.max(0, Math.min(MAX_PULL_WAIT_MS, this.ctx.config.fedTimeoutMs - 1000));
    const result = await this.ctx.messenger.send<{ events?: unknown; grants?: unknown }>(targetOf(conn), 'QUERY',
      { query: 'events', args: { after: conn.pullAfter, waitMs } }, { op: 'events', retries: 0, signal: this.abort.signal });
    const events = Array.isArray(result.events) ? result.events : [];
    let after = conn.pullAfter;
    for (const item of events) {
      if (!isPlainObject(item) || !Number.isSafeInteger(item.seq) || (item.seq as number) <= after) continue;
      if (!(EVENTS as readonly unknown[]).includes(item.event)) continue;
      try {
        await this.mirror.applyEvent(item.event as EventName, conn, parseRemoteAgent(item.agent), item.seq as number);
      } catch (err) {
        // One unusable event (not ours, malformed) must not stop the ones after it.
        this.ctx.logger.warn({ peer: conn.instanceId, seq: item.seq, code: isMosaicError(err) ? err.code : String(err) }, 'pulled event refused');
      }
      after = item.seq as number;
    }
    if (after !== conn.pullAfter) await this.ctx.store.connections.update(conn.id, { pullAfter: after });
    if (result.grants !== undefined) await this.applyGrants(conn, result.grants);
  }

  /** The peer's current grants for this instance, as a pull answer carries them (the pull side of grant.changed). */
  private async applyGrants(conn: ConnectionRecord, value: unknown): Promise<void> {
    try {
      const notice = parseEventBody({ ...(isPlainObject(value) ? value : {}), event: GRANT_CHANGED });
      if (notice.event === GRANT_CHANGED) await applyGrantNotice(this.ctx, (await this.ctx.store.connections.get(conn.id)) ?? conn, notice);
    } catch (err) {
      this.ctx.logger.warn({ peer: conn.instanceId, code: isMosaicError(err) ? err.code : String(err) }, 'pulled grants refused');
    }
  }
}
