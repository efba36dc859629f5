import type { PublicAgent } from '../../agents/index.js';
import type { FederationContext } from '../context.js';
import { boundedAgent } from '../handlers/bounded-agent.js';
import { MAX_RESULT_BYTES } from '../handlers/limits.js';
import { EVENTS, type EventName } from '../protocol/index.js';
import type { OutboxRow } from '../store/index.js';

export interface OutboxEvent {
  seq: number;
  event: EventName;
  agent: PublicAgent;
}

/** The agent record of an outbox row, read from the event log; undefined when the event is gone. */
export async function outboxEvent(ctx: FederationContext, row: OutboxRow): Promise<OutboxEvent | undefined> {
  const [event] = await ctx.core.events.after(row.seq - 1, 1);
  if (!event || event.seq !== row.seq || !(EVENTS as readonly string[]).includes(event.type)) return undefined;
  return { seq: row.seq, event: event.type as EventName, agent: boundedAgent(event.data) };
}

/**
 * QUERY `events {after, waitMs}`: the peer's outbox rows after `after`,
 * waiting up to `waitMs` for one to appear — the pull side of the same
 * outbox the push worker drains, for a hub this instance cannot reach.
 * Pulling past a row acknowledges it, so the push worker does not send it again.
 */
export async function pullEvents(ctx: FederationContext, peer: string, after: number, waitMs: number, limit: number): Promise<{ events: OutboxEvent[]; next: number }> {
  const read = async (): Promise<OutboxEvent[]> => {
    const out: OutboxEvent[] = [];
    let size = 0;
    for (const row of await ctx.store.outbox.after(peer, after, limit)) {
      const event = await outboxEvent(ctx, row);
      if (!event) continue;
      size += Buffer.byteLength(JSON.stringify(event));
      // One answer must fit in one message; the rest comes with the next pull.
      if (out.length > 0 && size > MAX_RESULT_BYTES) break;
      out.push(event);
    }
    return out;
  };
  if (after > 0) await ctx.store.outbox.acknowledge(peer, after, Date.now());
  let events = await read();
  if (events.length === 0 && waitMs > 0 && !ctx.closing.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, waitMs);
      const unsubscribe = ctx.bus.subscribe((event) => {
        if (event.data.origin === peer) done();
      });
      ctx.closing.addEventListener('abort', done, { once: true });
      function done(): void {
        clearTimeout(timer);
        unsubscribe();
        ctx.closing.removeEventListener('abort', done);
        resolve();
      }
    });
    events = await read();
  }
  return { events, next: events.at(-1)?.seq ?? after };
}
