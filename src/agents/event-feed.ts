import type { Store } from '../store/types.js';
import type { EventBus } from './event-bus.js';
import { publicAgent, type PublicAgent } from './public.js';

export interface FeedEvent {
  seq: number;
  type: string;
  agentId: string;
  data: PublicAgent;
}

const PAGE = 500;
/** The newest events are read from the store once and shared by every follower (hundreds of open streams). */
const RECENT = 64;
/** ...as long as they stay under this many characters of long text (a claude result can be megabytes). */
const RECENT_CHARS = 8 * 1024 * 1024;

/** The long texts of a record, roughly: what keeping it costs. */
function weight(event: FeedEvent): number {
  const { prompt, result, error, progress } = event.data;
  return 1024 + prompt.length + (typeof result?.summary === 'string' ? result.summary.length : 0)
    + (error?.message.length ?? 0) + (typeof progress?.lastText === 'string' ? progress.lastText.length : 0);
}

/**
 * `deliver`'s answer: nothing or true to go on, false to stop following, or a
 * promise of either when the reader is backed up (the next event waits for it).
 */
export type Delivered = void | boolean | Promise<boolean>;

/**
 * Every event after a given seq, then live ones, in seq order, with no gap
 * and no duplicate. The store is the only source: a live event is just a
 * signal to read what is new, so events written concurrently (or published
 * out of order) are still delivered in order exactly once.
 *
 * A follower that is backed up holds nothing: it stops reading and, once its
 * reader catches up, reads on from the store where it stopped. So a slow
 * reader's backlog costs store rows, not server memory.
 */
export class EventFeed {
  private readonly recent = new Map<number, FeedEvent>();
  private recentChars = 0;
  /** Followers' read signals, for wakes that come from outside this process (`wake`). */
  private readonly wakers = new Set<() => void>();
  /** Store reads in flight, so followers woken by the same event share one read (and one parse). */
  private readonly reads = new Map<string, Promise<FeedEvent[]>>();

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
  ) {}

  /**
   * Events may have been written by another process (a cluster's other
   * nodes): every follower reads what is new. Cheap to call often: a
   * follower with a read pending takes no second one.
   */
  wake(): void {
    for (const waker of this.wakers) waker();
  }

  /** The seq of the newest event, so a reader can start "from now". */
  lastSeq(): Promise<number> {
    return this.store.events.lastSeq();
  }

  /**
   * The seq of the first event kept after `after` (undefined when none is):
   * more than `after + 1` means retention pruned the events in between.
   */
  async firstSeqAfter(after: number): Promise<number | undefined> {
    return (await this.store.events.after(after, 1))[0]?.seq;
  }

  /** Up to `limit` events after `after`: the cached run first, then the store. */
  private async page(after: number, limit: number): Promise<FeedEvent[]> {
    const events: FeedEvent[] = [];
    let last = after;
    for (let cached = this.recent.get(last + 1); cached && events.length < limit; cached = this.recent.get(last + 1)) {
      events.push(cached);
      last = cached.seq;
    }
    if (events.length === limit) return events;
    events.push(...await this.read(last, limit - events.length));
    return events;
  }

  private read(after: number, limit: number): Promise<FeedEvent[]> {
    const key = `${after}:${limit}`;
    let read = this.reads.get(key);
    if (!read) {
      read = this.store.events.after(after, limit).then((rows) => rows.map((row) => {
        const shared = this.recent.get(row.seq) ?? { seq: row.seq, type: row.type, agentId: row.agentId, data: publicAgent(row.data) };
        this.remember(shared);
        return shared;
      }));
      this.reads.set(key, read);
      const forget = () => this.reads.delete(key);
      read.then(forget, forget);
    }
    return read;
  }

  private remember(event: FeedEvent): void {
    if (this.recent.has(event.seq)) return;
    this.recent.set(event.seq, event);
    this.recentChars += weight(event);
    while (this.recent.size > RECENT || (this.recentChars > RECENT_CHARS && this.recent.size > 1)) {
      // Evict the oldest seq, so a replay of old history does not push out what live followers share.
      const oldest = Math.min(...this.recent.keys());
      this.recentChars -= weight(this.recent.get(oldest) as FeedEvent);
      this.recent.delete(oldest);
    }
  }

  async follow(after: number, deliver: (event: FeedEvent) => Delivered, onError: (err: unknown) => void = () => {}): Promise<() => void> {
    let last = after;
    let closed = false;
    let queued = false;
    let chain: Promise<void> = Promise.resolve();
    // After a wait, read one event at a time, growing back to full pages while the reader keeps up.
    let pageSize = PAGE;
    /** Delivers one page; answers a pending wait (the page is let go meanwhile) or whether a full page was read. */
    const deliverPage = async (): Promise<{ wait?: Promise<boolean>; more: boolean }> => {
      const page = await this.page(last, pageSize);
      for (const event of page) {
        if (closed) return { more: false };
        last = event.seq;
        const delivered = deliver(event);
        if (delivered === false) return { wait: Promise.resolve(false), more: false };
        if (delivered instanceof Promise) return { wait: delivered, more: true };
      }
      return { more: page.length === pageSize };
    };
    const readNew = async () => {
      queued = false;
      while (!closed) {
        const { wait, more } = await deliverPage();
        if (wait) {
          if (!(await wait)) {
            stop();
            return;
          }
          pageSize = 1;
        } else {
          pageSize = Math.min(pageSize * 2, PAGE);
        }
        if (!more) return;
      }
    };
    const schedule = () => {
      if (queued) return; // one pending read covers any number of signals
      queued = true;
      chain = chain.then(readNew).catch(onError);
    };
    const unsubscribe = this.bus.subscribe(schedule);
    this.wakers.add(schedule);
    const stop = () => {
      closed = true;
      unsubscribe();
      this.wakers.delete(schedule);
    };
    schedule();
    await chain;
    return stop;
  }
}
