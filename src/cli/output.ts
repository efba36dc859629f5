/** Human output (aligned tables, durations, timestamps) and `--json` output. */
import { formatDuration } from '../core/duration.js';

/** Whether the command line asks for JSON output (options after `--` belong to an agent's command). */
export function jsonRequested(argv: readonly string[] = process.argv.slice(2)): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/* eslint-disable no-control-regex -- these patterns exist to find control characters */
/** ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ST`, and two-byte `ESC x`). */
const ANSI_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
/** C0 controls (but tab and newline), DEL, C1 controls, and bidi overrides that reorder what a line shows. */
const UNSAFE_CHAR = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

/**
 * Text that came from elsewhere (peers, agents, their logs and errors) made
 * safe for a terminal: escape sequences are removed and other control
 * characters shown as `\xNN` / `\uNNNN`, so no value can move the cursor,
 * recolour, retitle or rewrite what the terminal shows. Newlines stay only
 * in `multiline` text.
 */
export function safeText(text: string, opts: { multiline?: boolean } = {}): string {
  const visible = text.replace(ANSI_SEQUENCE, '').replace(UNSAFE_CHAR, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return opts.multiline ? visible : visible.replace(/\n/g, '\\n');
}

/** Writes one line (or block) to stdout. */
export function print(text = ''): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printError(text: string): void {
  // Error messages may quote a peer's answer.
  const safe = safeText(text, { multiline: true });
  process.stderr.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** Pretty JSON for `--json`: one document on stdout. */
export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

/** One compact JSON document per line, for streams (`events --json`, `logs -f --json`). */
export function printJsonLine(value: unknown): void {
  print(JSON.stringify(value));
}

// eslint-disable-next-line no-control-regex -- SGR colour sequences take no cells
const SGR = /\x1b\[[0-9;]*m/g;

/** Terminal cells a string takes (colour codes take none); good enough for the ASCII, accents and symbols the CLI prints. */
function width(text: string): number {
  return [...text.replace(SGR, '')].length;
}

/**
 * Whether to colour what goes to `stream`: only a terminal, never with
 * NO_COLOR set (https://no-color.org) or TERM=dumb.
 */
export function colorEnabled(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

const STATE_COLORS: Record<string, number> = { queued: 33, spawning: 33, running: 36, completed: 32, failed: 31, killed: 35 };

/** An agent state in its colour (yellow waiting, cyan running, green completed, red failed, magenta killed). */
export function colorState(state: string, text: string = state, color = colorEnabled()): string {
  const code = STATE_COLORS[state];
  return color && code !== undefined ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/**
 * Aligned columns separated by two spaces; the last column is not padded so
 * lines carry no trailing blanks. Cells are single-line (newlines become spaces).
 */
export function formatRows(rows: readonly (readonly string[])[], decorate?: CellDecorator): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const clean = rows.map((row) => Array.from({ length: columns }, (_, i) => safeText((row[i] ?? '').replace(/\s*\n\s*/g, ' '))));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...clean.map((row) => width(row[i] ?? ''))));
  return clean
    .map((row, r) => row.map((cell, i) => {
      const padded = i === columns - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - width(cell));
      // Decorations (colours) go on after the text was made safe, around the padded cell.
      return decorate ? decorate(padded, r, i) : padded;
    }).join('  ').trimEnd())
    .join('\n');
}

/** Wraps a cell of a table (row 0 is the header) in, e.g., colour codes. */
export type CellDecorator = (cell: string, row: number, column: number) => string;

/** A table with a header row. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], decorate?: CellDecorator): string {
  return formatRows([headers, ...rows], decorate);
}

/** `key  value` lines with the keys aligned. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const keyWidth = Math.max(0, ...fields.map(([key]) => width(key)));
  return fields.map(([key, value]) => `${key}${' '.repeat(keyWidth - width(key))}  ${safeText(value)}`.trimEnd()).join('\n');
}

/** '-' for an absent value, so table cells are never blank. */
export function dash(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  return String(value);
}

export { formatDuration };

/** Local time as `YYYY-MM-DD HH:MM:SS`; today's times drop the date when `short`. */
export function formatTimestamp(ms: number | null | undefined, opts: { short?: boolean; now?: number } = {}): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (opts.short) {
    const today = new Date(opts.now ?? Date.now());
    if (today.toDateString() === d.toDateString()) return time;
  }
  return `${date} ${time}`;
}

/** "12s ago", "3m 05s ago". */
export function formatAgo(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) return '-';
  return `${formatDuration(Math.max(0, now - ms))} ago`;
}
