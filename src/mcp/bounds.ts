/**
 * Tool results are read by a model with a finite context: a whole result,
 * its text and its structured content together, never exceeds
 * MAX_TOOL_RESULT_BYTES. Tools shape their own output first (logs and diffs
 * are cut at line boundaries with a note); `fitResult` is the guarantee
 * behind them for anything else (a 127 KiB prompt in `get_agent`, a fleet of
 * a thousand agents).
 */

export const MAX_TOOL_RESULT_BYTES = 100 * 1024;
/** What a tool that repeats a long text (a diff, log lines) in both parts may give each part. */
export const CONTENT_BUDGET_BYTES = 45 * 1024;

const CUT_MARK = ' …[cut]';
const bytes = (text: string): number => Buffer.byteLength(text);
const jsonBytes = (value: unknown): number => bytes(JSON.stringify(value));

/** The first `max` bytes of `text` (never splitting a character), with `mark` when anything was left out. */
export function cutText(text: string, max: number, mark = CUT_MARK): string {
  if (bytes(text) <= max) return text;
  const room = Math.max(0, max - bytes(mark));
  let cut = Buffer.from(text).subarray(0, room).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return `${cut}${mark}`;
}

/** Lines from the end of `lines` that fit in `max` bytes (one newline each); how many were left out. */
export function lastLinesWithin(lines: readonly string[], max: number): { lines: string[]; dropped: number } {
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const cost = bytes(lines[i]!) + 1;
    if (size + cost > max) break;
    kept.push(lines[i]!);
    size += cost;
  }
  return { lines: kept.reverse(), dropped: lines.length - kept.length };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function mapStrings(value: Json, limit: number): Json {
  if (typeof value === 'string') return bytes(value) > limit ? cutText(value, limit) : value;
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, limit));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, limit)]));
  return value;
}

function capArrays(value: Json, limit: number): Json {
  if (Array.isArray(value)) return value.slice(0, limit).map((item) => capArrays(item, limit));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, capArrays(v, limit)]));
  return value;
}

export interface FittedResult {
  structured: Record<string, unknown>;
  text: string;
}

/**
 * Makes `text` plus the JSON of `structured` fit in `budget` bytes: the text
 * is cut first down to half the budget, then the longest strings of the
 * structured content, then its longest lists; what was cut is said in both
 * (`truncated: true` and a note in the text).
 */
export function fitResult(structured: Record<string, unknown>, text: string, budget = MAX_TOOL_RESULT_BYTES): FittedResult {
  const NOTE = `\n(Result cut to fit ${Math.round(budget / 1024)} KB.)`;
  if (bytes(text) + jsonBytes(structured) <= budget) return { structured, text };
  let fittedText = bytes(text) > budget / 2 ? cutText(text, budget / 2 - bytes(NOTE)) : text;
  const room = () => budget - bytes(fittedText) - bytes(NOTE) - 32;
  let value = structured as Json;
  for (let limit = 64 * 1024; jsonBytes(value) > room() && limit >= 128; limit = Math.floor(limit / 2)) value = mapStrings(value, limit);
  for (let limit = 1000; jsonBytes(value) > room() && limit >= 1; limit = Math.floor(limit / 2)) value = capArrays(value, limit);
  let fitted = { ...(value as Record<string, unknown>), truncated: true };
  if (jsonBytes(fitted) > room()) fitted = { truncated: true };
  fittedText += NOTE;
  if (bytes(fittedText) + jsonBytes(fitted) > budget) fittedText = cutText(fittedText, budget - jsonBytes(fitted));
  return { structured: fitted, text: fittedText };
}
