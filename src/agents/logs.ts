import { closeSync, openSync, readSync } from 'node:fs';

export interface LogPage {
  lines: string[];
  /** Cursor to pass as `after` for the next page: a byte offset into the log. */
  next: number;
}

const MAX_CHUNK_BYTES = 1024 * 1024;

/**
 * Long polling of a log page: with nothing new yet and the agent still
 * running, the read waits up to `waitMs` for a line (or the agent's end)
 * instead of answering empty at once, so a follower — above all a remote
 * one, whose every read is a signed message — asks once per line burst or
 * once per wait, not five times a second. `signal` ends the wait early
 * (the follower went away).
 */
export interface LogWait {
  waitMs?: number;
  signal?: AbortSignal;
}

/** The longest a log read waits (a peer's agent.logs must answer well within the sender's timeout). */
export const MAX_LOG_WAIT_MS = 25_000;
/** How often a waiting read looks at the log file again (a local file: cheap). */
export const LOG_WAIT_POLL_MS = 200;

/**
 * Reads whole lines of an agent's log starting at byte `after`. The cursor is
 * a byte offset so following a long log costs only what is new. A trailing
 * line without its newline is held back until it is complete, unless `final`
 * says the writer is gone.
 */
export function readLogPage(path: string, after: number, limit: number, final: boolean): LogPage {
  // Past the end (or not a usable offset): nothing to read yet, and never an exception.
  if (!Number.isSafeInteger(after) || after < 0) return { lines: [], next: after };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { lines: [], next: after };
  }
  try {
    const buffer = Buffer.alloc(MAX_CHUNK_BYTES);
    const read = readSync(fd, buffer, 0, buffer.length, after);
    const chunk = buffer.subarray(0, read);
    const lines: string[] = [];
    let offset = 0;
    while (lines.length < limit && offset < chunk.length) {
      const newline = chunk.indexOf(0x0a, offset);
      if (newline === -1) {
        // A line longer than the chunk is cut rather than blocking the reader forever.
        if (final || chunk.length === MAX_CHUNK_BYTES) {
          lines.push(chunk.subarray(offset).toString('utf8'));
          offset = chunk.length;
        }
        break;
      }
      lines.push(chunk.subarray(offset, newline).toString('utf8'));
      offset = newline + 1;
    }
    return { lines, next: after + offset };
  } finally {
    closeSync(fd);
  }
}
