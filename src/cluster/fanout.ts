import pg from 'pg';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** The channel the events table's trigger notifies (cluster migration 401). */
export const EVENTS_CHANNEL = 'mosaic_events';
const RETRY_MS = 1000;
/** While the listening connection is down, streams are woken this often instead (they read from the store by seq). */
const FALLBACK_WAKE_MS = 1000;

/**
 * Events fan out to every node: each node LISTENs on the database, and the
 * trigger on `events` notifies at every commit, so an event written on any
 * node wakes the event streams (GET /api/v1/events, SSE) of all of them,
 * which read what is new from the store in seq order. Notifications carry
 * nothing: the store stays the only source, so none is lost or repeated.
 */
export class EventFanout {
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private fallback: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly databaseUrl: string, private readonly wake: () => void, private readonly logger: Logger) {}

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5000, application_name: 'mosaic-cluster-events' });
    client.on('error', () => undefined); // a lost connection also ends it: handled by 'end'
    client.on('notification', () => this.wake());
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      this.down(err);
      return;
    }
    this.client = client;
    clearInterval(this.fallback);
    this.fallback = undefined;
    this.wake(); // what was written while it was not listening
    client.once('end', () => {
      this.client = undefined;
      if (!this.stopped) this.down(new Error('connection ended'));
    });
  }

  private down(err: unknown): void {
    if (this.stopped) return;
    this.logger.warn({ err: messageOf(err) }, 'cluster event fan-out is not listening; polling until it is back');
    if (this.fallback === undefined) {
      this.fallback = setInterval(() => this.wake(), FALLBACK_WAKE_MS);
      this.fallback.unref();
    }
    this.retry = setTimeout(() => void this.connect(), RETRY_MS);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.fallback);
    await this.client?.end().catch(() => undefined);
  }
}
