/**
 * The `gemini` runtime: Google's Gemini CLI run headless,
 * `gemini --output-format stream-json --prompt=<prompt>`.
 *
 * Followed: `@google/gemini-cli` 0.61.0 (the CLI installed by real-cli.ts:
 * its bundle's `packages/core/src/output/types.ts`,
 * `stream-json-formatter.ts` and `nonInteractiveCli.ts`). JSONL events:
 * `init {session_id, model}`, `message {role, content, delta}` (assistant
 * text comes in deltas), `tool_use {tool_name, tool_id, parameters}`,
 * `tool_result {tool_id, status, output, error?}`, `error {severity,
 * message}` (`error` for RESOURCE_EXHAUSTED, else `warning`; the run goes on)
 * and `result {status: success|error, error?: {type, message}, stats:
 * {total_tokens, input_tokens, output_tokens, cached, input, duration_ms,
 * tool_calls, models}}`. Usage: `input_tokens` is the prompt count with the
 * cached part in it, `output_tokens` the candidates without thinking, which
 * is in `total_tokens` only, so reasoning = total − input − output.
 *
 * Seen with the real CLI here (private HOME, no credentials): nothing on
 * stdout, "Please set an Auth method in …/settings.json or specify one of the
 * following environment variables …" on stderr, exit 41 — the failure is
 * taken from stderr. Headless in an untrusted folder it refuses to run, so
 * `--skip-trust`; `--approval-mode yolo`: no one answers prompts and Mosaic's
 * sandbox contains it (Gemini's own `--sandbox` is a container, off).
 * Resume: `--resume <session_id>`.
 *
 * Project configuration: a trusted workspace's `.gemini/settings.json` is
 * loaded (hooks, MCP servers, tool discovery commands: programs), and an
 * untrusted one cannot run headless. Mosaic has no way yet to run Gemini
 * CLI with that file ignored, so a gemini agent whose projectConfig is off
 * is refused (400 runtime_needs_project_config) rather than run unsafely.
 */
import { invalid } from '../../core/errors.js';
import type { GeminiRuntime, TokenUsage } from '../types.js';
import { checkHeadlessSpec, freshSpec, normalizeHeadless, requireShell, resumeSpec, rolePrompt } from './headless.js';
import { checkBin, checkPrompt } from './prompt.js';
import { rejectedIfRateLimit } from './rate-limit.js';
import { RunState } from './run-state.js';
import type { AgentRuntime, Invocation, InvocationInput, RateLimitSignal, RunSummary, RuntimeStream, StreamEvent } from './runtime.js';
import { count, isObject, parseTypedLine, str } from './stream-util.js';

export function geminiInvocation(spec: GeminiRuntime, input: InvocationInput): Invocation {
  checkBin('gemini', 'MOSAIC_GEMINI_BIN', input.bins.gemini);
  checkHeadlessSpec(spec);
  requireShell('gemini', input.shell);
  if (!input.projectConfig) {
    throw invalid(
      'runtime_needs_project_config',
      'the gemini runtime cannot run with the repository\'s configuration disabled: Gemini CLI loads a trusted workspace\'s .gemini/settings.json (hooks, MCP servers) and refuses an untrusted one headless; allow projectConfig for this repository (and grant) to use it',
      { field: 'runtime.kind' },
    );
  }
  const prompt = rolePrompt(input.type, input.prompt);
  checkPrompt(prompt);
  const argv = [input.bins.gemini, '--output-format', 'stream-json', '--approval-mode', 'yolo', '--skip-trust'];
  if (spec.model !== undefined) argv.push('--model', spec.model);
  if (spec.resume !== undefined) argv.push('--resume', spec.resume);
  // One element with `=`: a prompt starting with `-` stays the prompt.
  argv.push(`--prompt=${prompt}`);
  return { argv };
}

/** Gemini's result stats in Mosaic's convention (thinking counted into output). */
export function geminiUsage(stats: unknown): TokenUsage | undefined {
  if (!isObject(stats)) return undefined;
  const input = count(stats.input_tokens);
  const output = count(stats.output_tokens);
  const reasoning = Math.max(0, count(stats.total_tokens) - input - output);
  return { inputTokens: input, outputTokens: output + reasoning, cachedInputTokens: count(stats.cached), reasoningTokens: reasoning };
}

/** What stderr says when Gemini CLI has no credentials (exit 41). */
const AUTH_RE = /auth method|GEMINI_API_KEY|not logged in|login|authenticat|credentials/i;

export class GeminiStream implements RuntimeStream {
  private readonly run = new RunState();
  /** Within a turn (see openTurn). */
  private speaking = false;
  private text = '';

  push(line: string): StreamEvent[] {
    const obj = this.run.read(line);
    if (obj === null) return [];
    const run = this.run;
    switch (obj.type) {
      case 'init':
        run.sessionId = str(obj.session_id) ?? run.sessionId;
        run.model = str(obj.model) ?? run.model;
        return [{ kind: 'init', ...(run.sessionId ? { sessionId: run.sessionId } : {}), ...(run.model ? { model: run.model } : {}) }];
      case 'message': {
        if (obj.role !== 'assistant') return [];
        const content = str(obj.content) ?? '';
        const events: StreamEvent[] = this.speaking ? [] : [this.openTurn()];
        this.text = obj.delta === true ? this.text + content : content;
        run.lastText = this.text;
        if (content !== '') events.push({ kind: 'text', turn: run.turns, text: content });
        return events;
      }
      case 'tool_use':
        return [...(this.speaking ? [] : [this.openTurn()]), run.tool(str(obj.tool_name) ?? 'unknown')];
      case 'tool_result':
        this.speaking = false;
        return [{ kind: 'tool_result', isError: obj.status === 'error' }];
      case 'error': {
        const message = str(obj.message) ?? 'gemini reported an error';
        const limited = obj.severity === 'error' ? rejectedIfRateLimit(message) : null;
        if (limited) run.rateLimit = limited;
        return [
          { kind: 'error', message, fatal: false },
          ...(limited ? [{ kind: 'rate_limit', state: limited.state, ...(limited.resetsAt ? { resetsAt: limited.resetsAt } : {}) } as StreamEvent] : []),
        ];
      }
      case 'result':
        return this.result(obj);
      default:
        return [];
    }
  }

  /** A turn starts with the assistant's first words or tool call after a tool result (or at the start). */
  private openTurn(): StreamEvent {
    this.speaking = true;
    this.text = '';
    return this.run.newTurn();
  }

  private result(obj: Record<string, unknown>): StreamEvent[] {
    const run = this.run;
    run.sawFinal = true;
    const usage = geminiUsage(obj.stats);
    if (usage) run.usage = usage;
    if (isObject(obj.stats) && isObject(obj.stats.models)) {
      const models = Object.keys(obj.stats.models);
      if (models.length === 1) run.model = models[0];
    }
    const events: StreamEvent[] = usage ? [{ kind: 'usage', usage }] : [];
    if (obj.status === 'error') {
      const error = isObject(obj.error) ? obj.error : {};
      events.push(...run.fail(str(error.message) ?? `gemini ended with ${str(error.type) ?? 'an error'}`));
    } else {
      run.resultText = this.text !== '' ? this.text : run.lastText;
    }
    events.push({ kind: 'final', isError: run.isError });
    return events;
  }

  summary(): RunSummary {
    const out = this.run.summary();
    if (!out.sawFinal && !out.isError) {
      // No result: the CLI died early (exit 41 without credentials) and said why on stderr.
      const said = this.run.noiseMatching(AUTH_RE);
      if (said !== undefined) {
        out.errorMessage = `gemini: ${said}`;
        if (AUTH_RE.test(said)) out.errorCode = 'not_logged_in';
      }
    }
    return out;
  }
}

/** A quota or rate refusal gemini printed: an `error` event of severity error, or an error result, naming one. */
export function geminiRateLimitOf(line: string): RateLimitSignal | null {
  if (!line.includes('"error"')) return null;
  const obj = parseTypedLine(line);
  if (obj === null) return null;
  let message: string | undefined;
  if (obj.type === 'error' && obj.severity === 'error') message = str(obj.message);
  else if (obj.type === 'result' && obj.status === 'error' && isObject(obj.error)) message = str(obj.error.message);
  return message === undefined ? null : rejectedIfRateLimit(message);
}

export const geminiRuntime: AgentRuntime<GeminiRuntime> = {
  kind: 'gemini',
  normalize: (spec) => normalizeHeadless(spec),
  invocation: geminiInvocation,
  stream: () => new GeminiStream(),
  resume: resumeSpec,
  fresh: freshSpec,
  rateLimitOf: geminiRateLimitOf,
  credentials: [{ path: '.gemini/oauth_creds.json' }, { path: '.gemini/google_accounts.json' }],
};
