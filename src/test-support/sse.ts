import { parseSse, type SseEvent } from '../cli/client.js';
import type { TestInstance } from './instance.js';

/**
 * Reads server-sent events from an instance's API until `done` says so (or
 * `timeoutMs` passes), then disconnects. Frames are parsed by the CLI's own
 * SSE parser, so tests read streams the way `mosaic` does.
 */
export async function readSse(
  t: TestInstance,
  path: string,
  done: (events: SseEvent[]) => boolean,
  opts: { lastEventId?: number; timeoutMs?: number } = {},
): Promise<{ status: number; contentType: string | null; events: SseEvent[] }> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${t.adminToken}` };
  if (opts.lastEventId !== undefined) headers['last-event-id'] = String(opts.lastEventId);
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? 15_000);
  const events: SseEvent[] = [];
  const res = await fetch(`${t.url}/api/v1${path}`, { headers, signal: controller.signal });
  try {
    if (res.body && res.ok) {
      for await (const event of parseSse(res.body as unknown as AsyncIterable<Uint8Array>)) {
        events.push(event);
        if (done(events)) break;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status: res.status, contentType: res.headers.get('content-type'), events };
}
