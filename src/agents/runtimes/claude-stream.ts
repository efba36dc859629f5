/**
 * Parser for Claude Code's `--output-format stream-json --verbose` lines:
 *
 *   {"type":"system","subtype":"init","session_id":…,"model":…,"tools":[…]}
 *   {"type":"assistant","message":{"id":…,"content":[{"type":"text",…},{"type":"tool_use","name":"Edit",…}],"usage":{…}},"session_id":…}
 *   {"type":"user","message":{"content":[{"type":"tool_result","is_error":false,…}]},…}
 *   {"type":"result","subtype":"success"|"error_max_turns"|"error_during_execution"|…,
 *    "is_error":false,"num_turns":3,"total_cost_usd":0.01,"usage":{…},"result":"…","session_id":…}
 *
 * The unauthenticated CLI prints init, an assistant line carrying
 * `"error":"authentication_failed"` and the text "Not logged in · Please run
 * /login", then a result with `"subtype":"success"` but `"is_error":true`,
 * and exits 1 — so `subtype` alone never means success.
 *
 * The log also holds stderr and anything else the process printed, so a line
 * that is not a JSON object with a string `type` is ignored, never thrown on.
 *
 * How the service judges a claude agent (see agents/outcome.ts):
 * - a result with `is_error: true` is a failure whatever the exit code;
 * - no result line at all is a failure (`claude_no_result`) even with exit
 *   code 0: the stream stopped mid-run (a crash, or a kill).
 */

export type ClaudeLine =
  | { kind: 'init'; sessionId?: string; model?: string; tools?: string[]; cwd?: string }
  | {
      kind: 'assistant';
      messageId?: string;
      sessionId?: string;
      texts: string[];
      toolUses: string[];
      /** e.g. `authentication_failed` on the unauthenticated CLI. */
      error?: string;
      /** The message's usage so far (repeated on each line of a message split over several). */
      usage?: Record<string, unknown>;
    }
  | { kind: 'tool_result'; sessionId?: string; isError: boolean }
  | {
      kind: 'result';
      subtype?: string;
      isError: boolean;
      numTurns?: number;
      costUsd?: number;
      usage?: Record<string, unknown>;
      result?: string;
      errors?: string[];
      sessionId?: string;
    }
  | { kind: 'rate_limit'; sessionId?: string; status?: string; resetsAt?: unknown }
  | { kind: 'other'; type: string; subtype?: string; sessionId?: string };

export type ClaudeProgress =
  | { kind: 'init'; sessionId?: string; model?: string }
  | { kind: 'assistant'; turn: number; text?: string; toolUses: string[]; error?: string; messageId?: string; usage?: Record<string, unknown> }
  | { kind: 'tool_result'; isError: boolean }
  | { kind: 'result'; isError: boolean; subtype?: string; turns?: number; costUsd?: number; resultText?: string }
  | { kind: 'rate_limit'; status?: string; resetsAt?: unknown };

export interface ClaudeSummary {
  sessionId?: string;
  model?: string;
  turns?: number;
  costUsd?: number;
  usage?: Record<string, unknown>;
  /** A result line said `is_error: true`. */
  isError: boolean;
  /** The result's `subtype` (`success`, `error_max_turns`, …). */
  subtype?: string;
  /** The result's `result` text: the final answer (the review, for reviewers). */
  resultText?: string;
  /** The last assistant text seen, useful when the stream stopped without a result. */
  lastText?: string;
  sawResult: boolean;
  /** A human-readable reason when `isError`, or the assistant's error when there was one. */
  errorMessage?: string;
  /** An assistant-level error code such as `authentication_failed`. */
  assistantError?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Drops undefined fields so results compare and serialize cleanly. */
function compact<T extends object>(obj: T): T {
  for (const key of Object.keys(obj) as (keyof T)[]) if (obj[key] === undefined) delete obj[key];
  return obj;
}

function contentBlocks(message: unknown): Json[] {
  if (!isObject(message) || !Array.isArray(message.content)) return [];
  return message.content.filter(isObject);
}

/** One stream-json line, normalized; null for anything that is not a typed JSON object. */
export function parseClaudeLine(line: string): ClaudeLine | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (!isObject(obj) || typeof obj.type !== 'string') return null;
  const sessionId = str(obj.session_id);

  switch (obj.type) {
    case 'system':
      if (obj.subtype === 'init') {
        const tools = Array.isArray(obj.tools) ? obj.tools.filter((t): t is string => typeof t === 'string') : undefined;
        return compact<ClaudeLine>({ kind: 'init', sessionId, model: str(obj.model), tools, cwd: str(obj.cwd) });
      }
      return compact<ClaudeLine>({ kind: 'other', type: obj.type, subtype: str(obj.subtype), sessionId });
    case 'assistant': {
      const blocks = contentBlocks(obj.message);
      const texts = blocks.filter((b) => b.type === 'text').map((b) => str(b.text)).filter((t): t is string => t !== undefined);
      const toolUses = blocks.filter((b) => b.type === 'tool_use').map((b) => str(b.name) ?? 'unknown');
      const messageId = isObject(obj.message) ? str(obj.message.id) : undefined;
      const usage = isObject(obj.message) && isObject(obj.message.usage) ? obj.message.usage : undefined;
      return compact<ClaudeLine>({ kind: 'assistant', messageId, sessionId, texts, toolUses, error: str(obj.error), usage });
    }
    case 'user': {
      const results = contentBlocks(obj.message).filter((b) => b.type === 'tool_result');
      if (results.length === 0) return compact<ClaudeLine>({ kind: 'other', type: obj.type, sessionId });
      return compact<ClaudeLine>({ kind: 'tool_result', sessionId, isError: results.some((b) => b.is_error === true) });
    }
    case 'result': {
      const errors = Array.isArray(obj.errors) ? obj.errors.filter((e): e is string => typeof e === 'string') : undefined;
      return compact<ClaudeLine>({
        kind: 'result',
        subtype: str(obj.subtype),
        isError: obj.is_error === true,
        numTurns: num(obj.num_turns),
        // Older CLI versions named it cost_usd.
        costUsd: num(obj.total_cost_usd) ?? num(obj.cost_usd),
        usage: isObject(obj.usage) ? obj.usage : undefined,
        result: str(obj.result),
        errors: errors && errors.length > 0 ? errors : undefined,
        sessionId,
      });
    }
    case 'rate_limit_event': {
      const info = isObject(obj.rate_limit_info) ? obj.rate_limit_info : {};
      return compact<ClaudeLine>({ kind: 'rate_limit', sessionId, status: str(info.status), resetsAt: info.resetsAt });
    }
    default:
      return compact<ClaudeLine>({ kind: 'other', type: obj.type, subtype: str(obj.subtype), sessionId });
  }
}

/** Accumulates a run's lines into progress events and, at the end, its summary. */
export class ClaudeStreamState {
  private readonly state: ClaudeSummary = { isError: false, sawResult: false };
  private turn = 0;
  private lastMessageId: string | undefined;

  push(line: string): ClaudeProgress | null {
    const parsed = parseClaudeLine(line);
    if (parsed === null) return null;
    const s = this.state;
    if ('sessionId' in parsed && parsed.sessionId !== undefined) s.sessionId ??= parsed.sessionId;

    switch (parsed.kind) {
      case 'init':
        if (parsed.sessionId !== undefined) s.sessionId = parsed.sessionId;
        if (parsed.model !== undefined) s.model = parsed.model;
        return compact<ClaudeProgress>({ kind: 'init', sessionId: parsed.sessionId, model: parsed.model });
      case 'assistant': {
        // The CLI may split one message's content blocks over several lines sharing the message id.
        if (parsed.messageId === undefined || parsed.messageId !== this.lastMessageId) this.turn += 1;
        this.lastMessageId = parsed.messageId;
        const text = parsed.texts.length > 0 ? parsed.texts.join('\n') : undefined;
        if (text !== undefined) s.lastText = text;
        if (parsed.error !== undefined) {
          s.assistantError ??= parsed.error;
          s.errorMessage ??= text !== undefined ? `${parsed.error}: ${text}` : parsed.error;
        }
        return compact<ClaudeProgress>({
          kind: 'assistant', turn: this.turn, text, toolUses: parsed.toolUses, error: parsed.error, messageId: parsed.messageId, usage: parsed.usage,
        });
      }
      case 'tool_result':
        return { kind: 'tool_result', isError: parsed.isError };
      case 'rate_limit':
        return compact<ClaudeProgress>({ kind: 'rate_limit', status: parsed.status, resetsAt: parsed.resetsAt });
      case 'result':
        this.applyResult(parsed);
        return compact<ClaudeProgress>({
          kind: 'result',
          isError: parsed.isError,
          subtype: parsed.subtype,
          turns: parsed.numTurns,
          costUsd: parsed.costUsd,
          resultText: parsed.result,
        });
      default:
        return null;
    }
  }

  private applyResult(r: Extract<ClaudeLine, { kind: 'result' }>): void {
    const s = this.state;
    s.sawResult = true;
    s.isError = r.isError;
    if (r.subtype !== undefined) s.subtype = r.subtype;
    if (r.sessionId !== undefined) s.sessionId = r.sessionId;
    if (r.numTurns !== undefined) s.turns = r.numTurns;
    if (r.costUsd !== undefined) s.costUsd = r.costUsd;
    if (r.usage !== undefined) s.usage = r.usage;
    if (r.result !== undefined) s.resultText = r.result;
    if (r.isError) {
      const reason = r.result ?? r.errors?.join('; ') ?? `claude reported ${r.subtype ?? 'an error'}`;
      s.errorMessage = s.assistantError !== undefined && !reason.startsWith(s.assistantError) ? `${s.assistantError}: ${reason}` : reason;
    }
  }

  summary(): ClaudeSummary {
    const out: ClaudeSummary = { ...this.state };
    if (out.turns === undefined && this.turn > 0) out.turns = this.turn;
    return out;
  }
}

/** Summarizes a whole output.log (stream-json mixed with stray stderr). */
export function summarizeClaudeLog(text: string): ClaudeSummary {
  const state = new ClaudeStreamState();
  for (const line of text.split(/\r?\n/)) state.push(line);
  return state.summary();
}
