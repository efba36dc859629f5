import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SseEvent {
  id?: string | number;
  event?: string;
  data: unknown;
}

export interface SseStream {
  /** Writes one event; false when the stream is closed (or was just dropped for not reading). */
  send(event: SseEvent): boolean;
  /** Writes a frame made by `sseFrame` (one frame can be shared by many streams). */
  sendFrame(frame: Buffer): boolean;
  comment(text: string): void;
  /**
   * True when the client has taken what was written; otherwise a promise of
   * true once it has, or false when the stream closed instead (including a
   * client dropped for not reading within the stall limit). Producers wait for
   * it between events so that a stream's backlog stays in the store, not in
   * server memory.
   */
  drained(): boolean | Promise<boolean>;
  close(): void;
  readonly closed: boolean;
  onClose(listener: () => void): void;
}

/** How much unread output one SSE client may hold in server memory before it is dropped. */
export const SSE_MAX_BUFFER_BYTES = 1024 * 1024;
/** How long a stream may stay unable to write (the client not reading) before the client is dropped. */
export const SSE_STALL_MS = 30_000;

export interface SseLimits {
  /** Unread bytes held for the client (beyond the kernel's socket buffers) past which it is dropped. */
  maxBufferBytes?: number;
  /** Milliseconds a backed-up stream waits for the client to read before dropping it. */
  stallMs?: number;
}

const HEARTBEAT_MS = 15_000;

/** One event as text/event-stream bytes. */
export function sseFrame({ id, event, data }: SseEvent): Buffer {
  let frame = '';
  if (id !== undefined) frame += `id: ${id}\n`;
  if (event) frame += `event: ${event}\n`;
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  for (const line of text.split('\n')) frame += `data: ${line}\n`;
  return Buffer.from(`${frame}\n`);
}

/**
 * Takes over the response for a text/event-stream. A heartbeat comment keeps
 * proxies from timing the stream out; the stream closes when the client goes.
 *
 * A client that does not read cannot make the server buffer for it: past
 * `maxBufferBytes` of unread output, or after `stallMs` with its socket backed
 * up, its connection is reset. Every stream here replays from the store
 * (`Last-Event-ID`, the logs' `after` cursor), so a dropped client that
 * reconnects loses nothing.
 */
export function openSse(request: FastifyRequest, reply: FastifyReply, limits: SseLimits = {}): SseStream {
  const maxBuffer = limits.maxBufferBytes ?? SSE_MAX_BUFFER_BYTES;
  const stallMs = limits.stallMs ?? SSE_STALL_MS;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  raw.flushHeaders();
  const listeners = new Set<() => void>();
  let closed = false;
  const heartbeat = setInterval(() => stream.comment('ping'), HEARTBEAT_MS);
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    const pending = [...listeners];
    listeners.clear();
    pending.forEach((listener) => listener());
    raw.end();
  };
  const drop = (why: string) => {
    if (closed) return;
    request.log.info({ unreadBytes: raw.writableLength, why }, 'SSE client dropped: it is not reading (it may reconnect with Last-Event-ID)');
    close();
    // A reset, not a FIN behind the unread data: the socket's kernel buffers are freed at once too.
    const socket = raw.socket;
    if (socket && !socket.destroyed) socket.resetAndDestroy();
  };
  /** Writes unless the client already holds more unread output than the bound. */
  const write = (chunk: string | Buffer): boolean => {
    if (closed) return false;
    if (raw.writableLength > maxBuffer) {
      drop('buffer');
      return false;
    }
    raw.write(chunk);
    return true;
  };
  request.raw.on('close', close);
  const stream: SseStream = {
    send(event) {
      return !closed && write(sseFrame(event));
    },
    sendFrame(frame) {
      return write(frame);
    },
    comment(text) {
      write(`: ${text}\n\n`);
    },
    drained() {
      if (closed) return false;
      if (!raw.writableNeedDrain) return true;
      return new Promise<boolean>((resolve) => {
        const settle = (ok: boolean) => {
          clearTimeout(timer);
          raw.off('drain', onDrain);
          listeners.delete(onClosed);
          resolve(ok);
        };
        const onClosed = () => settle(false);
        const onDrain = () => settle(!closed);
        const timer = setTimeout(() => {
          drop('stalled');
          settle(false);
        }, stallMs);
        raw.on('drain', onDrain);
        listeners.add(onClosed);
      });
    },
    close,
    get closed() {
      return closed;
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.add(listener);
    },
  };
  return stream;
}
