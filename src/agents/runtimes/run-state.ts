/**
 * What the codex, gemini and opencode stream readers accumulate, turned into
 * the one RunSummary every runtime gives. Each reader feeds it the events it
 * understood and the lines it did not (stderr), and decides what is final.
 */
import type { TokenUsage } from '../types.js';
import { rejectedIfRateLimit } from './rate-limit.js';
import type { RateLimitSignal, RunSummary, StreamEvent } from './runtime.js';
import { oneLine, parseTypedLine, type Json } from './stream-util.js';

const MAX_NOISE = 8;
const MAX_TEXT = 4000;

export class RunState {
  sawFinal = false;
  isError = false;
  errorMessage: string | undefined;
  errorCode: string | undefined;
  sessionId: string | undefined;
  model: string | undefined;
  turns = 0;
  usage: TokenUsage | undefined;
  reportedCostUsd: number | undefined;
  resultText: string | undefined;
  lastText: string | undefined;
  lastTools: string[] | undefined;
  rateLimit: RateLimitSignal | undefined;
  retrying: string | undefined;
  /** Lines of the runtime's own format seen (for runtime_silent and tests). */
  events = 0;
  /** The last lines that were not of the format (stderr): a runtime that dies early says why there. */
  private readonly noise: string[] = [];
  private toolsThisTurn: string[] = [];

  /**
   * One line of the runtime's output: its format's event (counted), or null
   * for anything else, kept as noise (the CLI's own words if it dies early).
   */
  read(line: string): (Json & { type: string }) | null {
    const obj = parseTypedLine(line);
    if (obj === null) this.noteNoise(line);
    else this.events += 1;
    return obj;
  }

  noteNoise(line: string): void {
    const text = oneLine(line);
    if (text === '') return;
    this.noise.push(text);
    if (this.noise.length > MAX_NOISE) this.noise.shift();
  }

  /** The last stderr lines matching `re`, else the last one: the CLI's own words for an early death. */
  noiseMatching(re: RegExp): string | undefined {
    for (let i = this.noise.length - 1; i >= 0; i -= 1) if (re.test(this.noise[i]!)) return this.noise[i];
    return this.noise.at(-1);
  }

  newTurn(): StreamEvent {
    this.turns += 1;
    this.toolsThisTurn = [];
    return { kind: 'turn', turn: this.turns };
  }

  text(text: string): StreamEvent {
    const cut = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
    this.lastText = cut;
    return { kind: 'text', turn: Math.max(this.turns, 1), text: cut };
  }

  tool(name: string): StreamEvent {
    this.toolsThisTurn.push(name);
    this.lastTools = [...this.toolsThisTurn];
    return { kind: 'tool', turn: Math.max(this.turns, 1), name };
  }

  /** A failure the runtime reported; a rate-limit wording types it (and records the signal). */
  fail(message: string, code?: string): StreamEvent[] {
    this.isError = true;
    this.errorMessage ??= oneLine(message, 2000);
    const limited = rejectedIfRateLimit(message);
    const events: StreamEvent[] = [{ kind: 'error', message: oneLine(message, 2000), fatal: true }];
    if (limited) {
      this.rateLimit = limited;
      events.push({ kind: 'rate_limit', state: 'rejected', ...(limited.resetsAt !== undefined ? { resetsAt: limited.resetsAt } : {}) });
    }
    this.errorCode ??= code ?? (limited ? 'rate_limited' : undefined);
    return events;
  }

  summary(): RunSummary {
    const out: RunSummary = { sawFinal: this.sawFinal, isError: this.isError };
    if (this.errorMessage !== undefined) out.errorMessage = this.errorMessage;
    if (this.errorCode !== undefined) out.errorCode = this.errorCode;
    if (this.sessionId !== undefined) out.sessionId = this.sessionId;
    if (this.model !== undefined) out.model = this.model;
    if (this.turns > 0) out.turns = this.turns;
    if (this.usage !== undefined) out.usage = this.usage;
    if (this.reportedCostUsd !== undefined) out.reportedCostUsd = this.reportedCostUsd;
    if (this.resultText !== undefined) out.resultText = this.resultText;
    if (this.lastText !== undefined) out.lastText = this.lastText;
    if (this.lastTools !== undefined) out.lastTools = this.lastTools;
    if (this.rateLimit !== undefined) out.rateLimit = this.rateLimit;
    if (this.retrying !== undefined) out.retrying = this.retrying;
    return out;
  }
}
