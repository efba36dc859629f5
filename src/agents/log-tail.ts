import type { LogPage } from './logs.js';

/** Lines read per page while looking for a log's end. */
const PAGE_LINES = 5000;
/** A log longer than this many pages is read only this far (the answer says so): time and memory stay bounded. */
const MAX_PAGES = 400;

export interface LogTail {
  /** The last `n` lines (after `render`). */
  lines: string[];
  /** The agent has ended and its log was read to the end. */
  ended: boolean;
  /** False when the log was longer than what is read (MAX_PAGES pages): `lines` end where reading stopped. */
  complete: boolean;
}

/**
 * The last `n` lines of an agent's output through the AgentApi's paged reads
 * (so remote agents' logs come from their peer the same way). Logs are read
 * forward from the start, keeping at most 2n lines in memory; `render` turns
 * one raw line into what is shown (claude's stream-json rendered for people).
 */
export async function tailLog(
  read: (after: number, limit: number) => Promise<LogPage & { ended: boolean }>, n: number,
  opts: { render?: (line: string) => string[]; signal?: AbortSignal } = {},
): Promise<LogTail> {
  const render = opts.render ?? ((line: string) => [line]);
  let kept: string[] = [];
  let after = 0;
  let ended = false;
  for (let pages = 0; pages < MAX_PAGES && !opts.signal?.aborted; pages++) {
    const page = await read(after, PAGE_LINES);
    for (const raw of page.lines) for (const line of render(raw)) kept.push(line);
    if (kept.length > 2 * n) kept = kept.slice(-n);
    ended = page.ended;
    if (page.lines.length === 0 || page.next <= after) return { lines: kept.slice(-n), ended, complete: true };
    after = page.next;
  }
  return { lines: kept.slice(-n), ended: false, complete: false };
}

export const LOG_TAIL_MAX_LINES = MAX_PAGES * PAGE_LINES;
