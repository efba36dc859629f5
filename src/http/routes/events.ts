import type { FastifyInstance } from 'fastify';
import type { EventFeed } from '../../agents/index.js';
import { invalid } from '../../core/errors.js';
import { openSse } from '../sse.js';

/** GET /events — every agent transition as SSE; `Last-Event-ID` (or `?after=`) resumes after that seq. */
export async function eventRoutes(app: FastifyInstance, opts: { feed: EventFeed }): Promise<void> {
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
    } catch (err) {
      request.log.error({ err }, 'event stream failed');
      stream.close();
    }
  });
}
