import type { FastifyInstance } from 'fastify';
import type { ConflictWatcher, EventFeed, FeedEvent } from '../../agents/index.js';
import { invalid } from '../../core/errors.js';
import { openSse, sseFrame, type SseLimits } from '../sse.js';

/** GET /events — every agent event as SSE; `Last-Event-ID` (or `?after=`) resumes after that seq; `?since=now` starts from now. */
/**
 * `repo.conflicts` notices (conflict radar changes) are interleaved without an
 * `id:` line: they are not in the event log, so they never move a client's
 * Last-Event-ID and agent events keep their contiguous seqs. Neither is an
 * `events.gap` notice, sent first when the events after the reader's cursor
 * were pruned by retention.
 */
export async function eventRoutes(app: FastifyInstance, opts: { feed: EventFeed; conflicts?: ConflictWatcher; sse?: SseLimits }): Promise<void> {
  // The feed shares its recent events among followers; each is serialized once for every stream that sends it.
  const frames = new WeakMap<FeedEvent, Buffer>();
  const frameOf = (event: FeedEvent): Buffer => {
    let frame = frames.get(event);
    if (!frame) {
      frame = sseFrame({ id: event.seq, event: event.type, data: event.data });
      frames.set(event, frame);
    }
    return frame;
  };
  app.get<{ Querystring: { after?: number; since?: 'now' } }>('/events', {
    schema: {
      tags: ['events'],
      summary: 'Server-sent events: `id: <seq>`, `event: agent.state` | `agent.progress`, `data: <agent>`',
      description: 'Replays history after `after` (default 0: everything kept); `since=now` sends only events from now on. '
        + 'When events after the cursor were pruned by retention, an `events.gap` event `{after, next, message}` (no id) comes first. '
        + '`Last-Event-ID` resumes after that seq and wins over both.',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { after: { type: 'integer', minimum: 0 }, since: { type: 'string', enum: ['now'] } },
      },
    },
  }, async (request, reply) => {
    const header = request.headers['last-event-id'];
    let after = request.query.since === 'now' ? await opts.feed.lastSeq() : request.query.after ?? 0;
    if (typeof header === 'string' && header !== '') {
      if (!/^\d{1,15}$/.test(header)) throw invalid('invalid_last_event_id', 'Last-Event-ID must be an event seq number');
      after = Number(header);
    }
    const first = await opts.feed.firstSeqAfter(after);
    const stream = openSse(request, reply, opts.sse);
    try {
      // Seqs are contiguous: a jump means retention deleted what this reader asked for. Say so (no id: it is
      // not in the log) so the reader can fetch the current state instead of trusting an incomplete replay.
      if (first !== undefined && first > after + 1) {
        stream.send({ event: 'events.gap', data: { after, next: first, message: `events ${after + 1} to ${first - 1} are no longer kept (retention)` } });
      }
      // The next event is read from the store only once this client has taken the last one: a slow reader's backlog stays in the store.
      const deliver = (event: FeedEvent) => stream.sendFrame(frameOf(event)) && stream.drained();
      const stop = await opts.feed.follow(after, deliver, (err) => {
        request.log.error({ err }, 'event stream failed');
        stream.close();
      });
      stream.onClose(stop);
      if (opts.conflicts) stream.onClose(opts.conflicts.subscribe((report) => stream.send({ event: 'repo.conflicts', data: report })));
    } catch (err) {
      request.log.error({ err }, 'event stream failed');
      stream.close();
    }
  });
}
