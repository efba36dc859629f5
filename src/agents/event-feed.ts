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

/**
 * Every event after a given seq, then live ones, in seq order, with no gap
 * and no duplicate. The store is the only source: a live event is just a
 * signal to read what is new, so events written concurrently (or published
 * out of order) are still delivered in order exactly once.
 */
export class EventFeed {
  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
  ) {}

  /** The seq of the newest event, so a reader can start "from now". */
  lastSeq(): Promise<number> {
    return this.store.events.lastSeq();
  }

  async follow(after: number, deliver: (event: FeedEvent) => void, onError: (err: unknown) => void = () => {}): Promise<() => void> {
    let last = after;
    let closed = false;
    let queued = false;
    let chain: Promise<void> = Promise.resolve();
    const readNew = async () => {
      queued = false;
      for (;;) {
        if (closed) return;
        const page = await this.store.events.after(last, PAGE);
        for (const event of page) {
          if (closed) return;
          last = event.seq;
          deliver({ seq: event.seq, type: event.type, agentId: event.agentId, data: publicAgent(event.data) });
        }
        if (page.length < PAGE) return;
      }
    };
    const schedule = () => {
      if (queued) return; // one pending read covers any number of signals
      queued = true;
      chain = chain.then(readNew).catch(onError);
    };
    const unsubscribe = this.bus.subscribe(schedule);
    schedule();
    await chain;
    return () => {
      closed = true;
      unsubscribe();
    };
  }
}
