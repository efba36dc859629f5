import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SseStream {
  send(event: { id?: string | number; event?: string; data: unknown }): void;
  comment(text: string): void;
  close(): void;
  readonly closed: boolean;
  onClose(listener: () => void): void;
}

const HEARTBEAT_MS = 15_000;

/**
 * Takes over the response for a text/event-stream. A heartbeat comment keeps
 * proxies from timing the stream out; the stream closes when the client goes.
 */
export function openSse(request: FastifyRequest, reply: FastifyReply): SseStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.flushHeaders();
  const listeners: (() => void)[] = [];
  let closed = false;
  const heartbeat = setInterval(() => stream.comment('ping'), HEARTBEAT_MS);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    listeners.splice(0).forEach((listener) => listener());
    raw.end();
  };
  request.raw.on('close', close);
  const stream: SseStream = {
    send({ id, event, data }) {
      if (closed) return;
      let frame = '';
      if (id !== undefined) frame += `id: ${id}\n`;
      if (event) frame += `event: ${event}\n`;
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      for (const line of text.split('\n')) frame += `data: ${line}\n`;
      raw.write(`${frame}\n`);
    },
    comment(text) {
      if (!closed) raw.write(`: ${text}\n\n`);
    },
    close,
    get closed() {
      return closed;
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
  };
  return stream;
}
