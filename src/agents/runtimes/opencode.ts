/**
 * The `opencode` runtime: opencode run headless, `opencode run --format json`.
 *
 * Followed: `opencode-ai` 1.18.33 (the CLI installed by real-cli.ts; its
 * `packages/opencode/src/cli/cmd/run.ts` as built into the binary). JSON
 * lines `{type, timestamp, sessionID, …}`: `step_start {part}`, `text {part:
 * {text}}` (a finished text part), `reasoning {part}`, `tool_use {part:
 * {tool, state: {status: completed|error, error?}}}`, `step_finish {part:
 * {reason, cost (USD), tokens: {input, output, reasoning, cache: {read,
 * write}}}}` and `error {error: {name, data?: {message}}}`. There is no
 * result line: the run ends when the session goes idle, so a step that
 * finishes for another reason than `tool-calls` is the final event. Tokens
 * and cost are per step (summed here); opencode's `input` leaves cache reads
 * and writes out and its `output` leaves reasoning out (its session usage
 * code subtracts them), so both are added back for Mosaic's convention.
 *
 * Headless: permission requests are rejected unless `--auto` (Mosaic's
 * sandbox contains it). Project configuration (opencode.json, .opencode/
 * plugins — JavaScript run in-process —, agents, commands, MCP servers, and
 * the Claude Code files it also reads) is off with
 * `OPENCODE_DISABLE_PROJECT_CONFIG=1`, `OPENCODE_DISABLE_CLAUDE_CODE=1` and
 * `--pure` (no external plugins). Sessions are never shared
 * (`OPENCODE_DISABLE_SHARE`), nor is the CLI updated mid-run. Seen here:
 * offline and without credentials it prints nothing at all (it waits on the
 * network), which MOSAIC_RUNTIME_FIRST_EVENT_S ends as runtime_silent.
 * Resume: `--session <id>`.
 */
import type { OpencodeRuntime, TokenUsage } from '../types.js';
import { checkHeadlessSpec, freshSpec, normalizeHeadless, requireShell, resumeSpec, rolePrompt } from './headless.js';
import { checkBin, checkPrompt } from './prompt.js';
import { rejectedIfRateLimit } from './rate-limit.js';
import { RunState } from './run-state.js';
import type { AgentRuntime, Invocation, InvocationInput, RateLimitSignal, RunSummary, RuntimeStream, StreamEvent } from './runtime.js';
import { addUsage, count, isObject, num, parseTypedLine, str, ZERO_USAGE, type Json } from './stream-util.js';

export const OPENCODE_NO_PROJECT_CONFIG_ENV: Readonly<Record<string, string>> = {
  OPENCODE_DISABLE_PROJECT_CONFIG: '1',
  OPENCODE_DISABLE_CLAUDE_CODE: '1',
};

export function opencodeInvocation(spec: OpencodeRuntime, input: InvocationInput): Invocation {
  checkBin('opencode', 'MOSAIC_OPENCODE_BIN', input.bins.opencode);
  checkHeadlessSpec(spec);
  requireShell('opencode', input.shell);
  const prompt = rolePrompt(input.type, input.prompt);
  checkPrompt(prompt);
  const argv = [input.bins.opencode, 'run', '--format', 'json', '--auto'];
  const env: Record<string, string> = { OPENCODE_DISABLE_SHARE: '1', OPENCODE_DISABLE_AUTOUPDATE: '1' };
  if (spec.model !== undefined) argv.push('--model', spec.model);
  if (spec.resume !== undefined) argv.push('--session', spec.resume);
  if (!input.projectConfig) {
    argv.push('--pure');
    Object.assign(env, OPENCODE_NO_PROJECT_CONFIG_ENV);
  }
  argv.push('--', prompt);
  return { argv, env };
}

/** One step's tokens in Mosaic's convention. */
export function opencodeUsage(tokens: unknown): TokenUsage | undefined {
  if (!isObject(tokens)) return undefined;
  const cache = isObject(tokens.cache) ? tokens.cache : {};
  const read = count(cache.read);
  const reasoning = count(tokens.reasoning);
  return {
    inputTokens: count(tokens.input) + read + count(cache.write),
    outputTokens: count(tokens.output) + reasoning,
    cachedInputTokens: read,
    reasoningTokens: reasoning,
  };
}

/** The message an opencode error object carries (`{name, data: {message}}`). */
function errorText(error: unknown): string {
  if (!isObject(error)) return 'opencode reported an error';
  const data = isObject(error.data) ? error.data : {};
  return str(data.message) ?? str(error.message) ?? str(error.name) ?? 'opencode reported an error';
}

export class OpencodeStream implements RuntimeStream {
  private readonly run = new RunState();
  private stepText = '';

  push(line: string): StreamEvent[] {
    const obj = this.run.read(line);
    if (obj === null) return [];
    const run = this.run;
    const events: StreamEvent[] = [];
    const session = str(obj.sessionID);
    if (session !== undefined && run.sessionId === undefined) {
      run.sessionId = session;
      events.push({ kind: 'init', sessionId: session });
    }
    const part: Json = isObject(obj.part) ? obj.part : {};
    switch (obj.type) {
      case 'step_start':
        this.stepText = '';
        run.sawFinal = false;
        events.push(run.newTurn());
        break;
      case 'text': {
        const text = str(part.text);
        if (text !== undefined && text.trim() !== '') {
          this.stepText = text;
          events.push(run.text(text));
        }
        break;
      }
      case 'tool_use': {
        const state = isObject(part.state) ? part.state : {};
        events.push(run.tool(str(part.tool) ?? 'unknown'), { kind: 'tool_result', isError: state.status === 'error' });
        break;
      }
      case 'step_finish':
        events.push(...this.stepFinish(part));
        break;
      case 'error':
        events.push(...run.fail(errorText(obj.error)));
        break;
      default:
        break;
    }
    return events;
  }

  private stepFinish(part: Json): StreamEvent[] {
    const run = this.run;
    const step = opencodeUsage(part.tokens);
    if (step) run.usage = addUsage(run.usage ?? { ...ZERO_USAGE }, step);
    const cost = num(part.cost);
    if (cost !== undefined && cost >= 0) run.reportedCostUsd = (run.reportedCostUsd ?? 0) + cost;
    const events: StreamEvent[] = [];
    if (run.usage) events.push({ kind: 'usage', usage: run.usage, ...(run.reportedCostUsd !== undefined ? { costUsd: run.reportedCostUsd } : {}) });
    if (part.reason !== 'tool-calls') {
      run.sawFinal = true;
      if (this.stepText !== '') run.resultText = this.stepText;
      events.push({ kind: 'final', isError: run.isError });
    }
    return events;
  }

  summary(): RunSummary {
    const out = this.run.summary();
    if (out.reportedCostUsd !== undefined) out.reportedCostUsd = Math.round(out.reportedCostUsd * 1e6) / 1e6;
    return out;
  }
}

/** A rate refusal opencode printed: an `error` line whose message names one (APIError 429, quota). */
export function opencodeRateLimitOf(line: string): RateLimitSignal | null {
  if (!line.includes('"error"')) return null;
  const obj = parseTypedLine(line);
  if (obj === null || obj.type !== 'error') return null;
  const error = isObject(obj.error) ? obj.error : {};
  const data = isObject(error.data) ? error.data : {};
  const status = num(data.statusCode);
  const text = errorText(obj.error);
  return status === 429 ? rejectedIfRateLimit(`429 ${text}`) : rejectedIfRateLimit(text);
}

export const opencodeRuntime: AgentRuntime<OpencodeRuntime> = {
  kind: 'opencode',
  normalize: (spec) => normalizeHeadless(spec),
  invocation: opencodeInvocation,
  stream: () => new OpencodeStream(),
  resume: resumeSpec,
  fresh: freshSpec,
  rateLimitOf: opencodeRateLimitOf,
  credentials: [{ path: '.local/share/opencode/auth.json' }],
};
