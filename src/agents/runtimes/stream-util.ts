/** Small, total helpers the runtimes' stream parsers share: a log line is hostile input and never throws. */
import type { TokenUsage } from '../types.js';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** A token count: a finite number ≥ 0, else 0. */
export const count = (v: unknown): number => {
  const n = num(v);
  return n !== undefined && n > 0 ? n : 0;
};

/** A JSON object with a string `type`, or null for anything else (stderr, partial lines, garbage). */
export function parseTypedLine(line: string): (Json & { type: string }) | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(trimmed);
  } catch {
    return null;
  }
  return isObject(obj) && typeof obj.type === 'string' ? (obj as Json & { type: string }) : null;
}

export const ZERO_USAGE: Readonly<TokenUsage> = Object.freeze({ inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 });

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
}

/** The first line of a text, cut to `max` characters: error messages and the like are one line on a record. */
export function oneLine(text: string, max = 500): string {
  const line = text.trim().split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
