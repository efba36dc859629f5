import type { FastifyInstance } from 'fastify';
import type { ConflictWatcher, EventFeed } from '../../agents/index.js';
import { invalid } from '../../core/errors.js';
import { openSse } from '../sse.js';

/** GET /events — every agent transition as SSE; `Last-Event-ID` (or `?after=`) resumes after that seq. */
/**
 * `repo.conflicts` notices (conflict radar changes) are interleaved without an
 * `id:` line: they are not in the event log, so they never move a client's
 * Last-Event-ID and agent events keep their contiguous seqs.
 */
export async function eventRoutes(app: FastifyInstance, opts: { feed: EventFeed; conflicts?: ConflictWatcher }): Promise<void> {
  app.get<{ Querystring: { after?: number } }>('/events', {
    schema: {
      tags: ['events'],
      summary: 'Server-sent events: `id: <seq>`, `event: agent.state`, `data: <agent>`',
      querystring: { type: 'object', properties: { after: { type: 'integer', minimum: 0 } } },
    },
  }, async (request, reply) => {
    const header = request.headers['last-event-id'];
    let after = request.query.after ?? 0;
    if (typeof header === 'string' && header !== '') {
      if (!/^\d{1,15}$/.test(header)) throw invalid('invalid_last_event_id', 'Last-Event-ID must be an event seq number');
      after = Number(header);
    }
    const stream = openSse(request, reply);
    try {
      const stop = await opts.feed.follow(after, (event) => stream.send({ id: event.seq, event: event.type, data: event.data }), (err) => {
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
