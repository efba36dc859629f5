/**
 * The `codex` runtime: OpenAI's Codex CLI run headless, `codex exec --json`.
 *
 * Followed: `@openai/codex` 0.171.0 (the CLI installed by real-cli.ts; its
 * `codex exec --help`) and `codex-rs/exec/src/exec_events.rs` of openai/codex
 * for the JSONL events: `thread.started {thread_id}`, `turn.started`,
 * `turn.completed {usage: {input_tokens, cached_input_tokens, output_tokens,
 * reasoning_output_tokens?}}`, `turn.failed {error: {message}}`,
 * `item.started|updated|completed {item: {id, type, …}}` (agent_message,
 * reasoning, command_execution, file_change, mcp_tool_call, web_search,
 * todo_list, error) and `error {message}`.
 *
 * Seen with the real CLI here (offline, private HOME):
 * - not logged in, `codex login status` prints "Not logged in" and exits 1
 *   within a second, while `codex exec` prints `thread.started` then retries
 *   "Reconnecting... n/5" and "Reconnecting... waiting for network" for ever.
 *   So Mosaic runs `codex login status` first (preflight, bounded) unless an
 *   API key variable is forwarded, and "Reconnecting…" errors are retries,
 *   not failures.
 * - its own Linux sandbox is bubblewrap, which fails nested inside Mosaic's:
 *   `--dangerously-bypass-approvals-and-sandbox` (no approvals either; Mosaic's
 *   sandbox contains it). `--skip-git-repo-check`: the sandboxed worktree's
 *   git dir is private.
 * - project configuration is code: a trusted project's `.codex/config.toml`
 *   starts its MCP servers before the first request. Trust lives in the user
 *   config (`[projects."<path>"] trust_level`), so `--ignore-user-config`
 *   leaves every project untrusted and its `.codex/` config unread (verified:
 *   a planted `.codex/config.toml` MCP server runs without it, not with it).
 * - usage on `turn.completed` is the thread's running total (OpenAI's
 *   convention: input includes cached, output includes reasoning), so a
 *   resumed thread's total includes the runs before it.
 * - resume: `codex exec [flags] resume <thread_id> -- <prompt>`.
 */
import type { CodexRuntime } from '../types.js';
import { checkHeadlessSpec, freshSpec, normalizeHeadless, requireShell, resumeSpec, rolePrompt } from './headless.js';
import { checkBin, checkPrompt } from './prompt.js';
import { rejectedIfRateLimit } from './rate-limit.js';
import { RunState } from './run-state.js';
import type { AgentRuntime, Invocation, InvocationInput, Preflight, RateLimitSignal, RunSummary, RuntimeStream, StreamEvent } from './runtime.js';
import { count, isObject, num, parseTypedLine, str, type Json } from './stream-util.js';

/** Flags that keep the repository's `.codex/` configuration (MCP servers, hooks, profiles) unread. */
export const CODEX_NO_PROJECT_CONFIG_ARGS: readonly string[] = ['--ignore-user-config'];

/** Variables with which codex authenticates without a login file (forwarded through MOSAIC_FORWARD_ENV). */
const API_KEY_VARS = ['CODEX_API_KEY', 'OPENAI_API_KEY'];
const LOGIN_CHECK_MS = 10_000;

export function codexInvocation(spec: CodexRuntime, input: InvocationInput): Invocation {
  checkBin('codex', 'MOSAIC_CODEX_BIN', input.bins.codex);
  checkHeadlessSpec(spec);
  requireShell('codex', input.shell);
  const prompt = rolePrompt(input.type, input.prompt);
  checkPrompt(prompt);
  const argv = [input.bins.codex, 'exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--color', 'never'];
  if (spec.model !== undefined) argv.push('--model', spec.model);
  if (!input.projectConfig) argv.push(...CODEX_NO_PROJECT_CONFIG_ARGS);
  if (spec.resume !== undefined) argv.push('resume', spec.resume);
  argv.push('--', prompt);
  return { argv };
}

/** Codex usage (OpenAI convention) in Mosaic's: the same, reasoning reported apart when given. */
export function codexUsage(raw: unknown): RunSummary['usage'] {
  if (!isObject(raw)) return undefined;
  return {
    inputTokens: count(raw.input_tokens),
    outputTokens: count(raw.output_tokens),
    cachedInputTokens: count(raw.cached_input_tokens),
    reasoningTokens: count(raw.reasoning_output_tokens),
  };
}

const RECONNECTING = /^Reconnecting/i;

/** The tool an item stands for, or undefined for items that are not tool calls. */
function toolName(item: Json): string | undefined {
  switch (item.type) {
    case 'command_execution': return 'shell';
    case 'file_change': return 'edit';
    case 'web_search': return 'web_search';
    case 'mcp_tool_call': return `mcp:${str(item.server) ?? '?'}/${str(item.tool) ?? '?'}`;
    case 'collab_tool_call': return `agent:${str(item.tool) ?? '?'}`;
    default: return undefined;
  }
}

export class CodexStream implements RuntimeStream {
  private readonly run = new RunState();
  private readonly toolItems = new Set<string>();

  push(line: string): StreamEvent[] {
    const obj = this.run.read(line);
    if (obj === null) return [];
    const run = this.run;
    switch (obj.type) {
      case 'thread.started':
        run.sessionId = str(obj.thread_id) ?? run.sessionId;
        return [{ kind: 'init', ...(run.sessionId ? { sessionId: run.sessionId } : {}) }];
      case 'turn.started':
        run.retrying = undefined;
        return [run.newTurn()];
      case 'turn.completed': {
        const usage = codexUsage(obj.usage);
        if (usage) run.usage = usage;
        run.sawFinal = true;
        run.resultText = run.lastText;
        return [...(usage ? [{ kind: 'usage', usage } as StreamEvent] : []), { kind: 'final', isError: run.isError }];
      }
      case 'turn.failed': {
        const message = isObject(obj.error) ? str(obj.error.message) : undefined;
        run.sawFinal = true;
        return [...run.fail(message ?? 'codex reported a failed turn'), { kind: 'final', isError: true }];
      }
      case 'error': {
        const message = str(obj.message) ?? 'codex reported an error';
        if (RECONNECTING.test(message)) {
          run.retrying = message;
          return [{ kind: 'retrying', message }];
        }
        return run.fail(message);
      }
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        return isObject(obj.item) ? this.item(obj.item, obj.type === 'item.completed') : [];
      default:
        return [];
    }
  }

  private item(item: Json, completed: boolean): StreamEvent[] {
    const id = str(item.id) ?? '';
    if (item.type === 'agent_message' && completed) {
      const text = str(item.text);
      return text !== undefined ? [this.run.text(text)] : [];
    }
    if (item.type === 'error' && completed) return [{ kind: 'error', message: str(item.message) ?? 'error', fatal: false }];
    const tool = toolName(item);
    if (tool === undefined) return [];
    const events: StreamEvent[] = [];
    if (!this.toolItems.has(id)) {
      this.toolItems.add(id);
      events.push(this.run.tool(tool));
    }
    if (completed) {
      const failed = item.status === 'failed' || item.status === 'declined' || (num(item.exit_code) ?? 0) !== 0;
      events.push({ kind: 'tool_result', isError: failed });
    }
    return events;
  }

  summary(): RunSummary {
    return this.run.summary();
  }
}

/** A rate-limit refusal codex printed: a fatal error or failed turn naming one (`rejected`), or a retry on a 429 (`warning`). */
export function codexRateLimitOf(line: string): RateLimitSignal | null {
  if (!line.includes('"error"') && !line.includes('turn.failed')) return null;
  const obj = parseTypedLine(line);
  if (obj === null) return null;
  const message = obj.type === 'error' ? str(obj.message) : obj.type === 'turn.failed' && isObject(obj.error) ? str(obj.error.message) : undefined;
  if (message === undefined) return null;
  const signal = rejectedIfRateLimit(message);
  if (signal === null) return null;
  return RECONNECTING.test(message) ? { state: 'warning' } : signal;
}

/**
 * `codex login status` before the run: offline and without credentials the
 * exec would retry for ever. Skipped when an API key variable reaches the
 * agent (codex exec authenticates with it without a login).
 */
export function codexPreflight(bins: InvocationInput['bins'], env: Record<string, string>): Preflight | null {
  if (API_KEY_VARS.some((name) => (env[name] ?? '') !== '')) return null;
  return {
    argv: [bins.codex, 'login', 'status'],
    timeoutMs: LOGIN_CHECK_MS,
    judge: ({ exitCode, output, timedOut }) => {
      if (timedOut) return { code: 'runtime_silent', message: `codex login status did not answer within ${LOGIN_CHECK_MS / 1000} s` };
      if (exitCode === 0) return null;
      const said = output.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('WARNING:')).at(-1);
      return { code: 'not_logged_in', message: `codex: ${said ?? `login status exited ${exitCode ?? 'on a signal'}`} (run \`codex login\`, or forward OPENAI_API_KEY with MOSAIC_FORWARD_ENV)` };
    },
  };
}

export const codexRuntime: AgentRuntime<CodexRuntime> = {
  kind: 'codex',
  normalize: (spec) => normalizeHeadless(spec),
  invocation: codexInvocation,
  stream: () => new CodexStream(),
  resume: resumeSpec,
  fresh: freshSpec,
  rateLimitOf: codexRateLimitOf,
  preflight: codexPreflight,
  credentials: [{ path: '.codex/auth.json', writable: true }],
};
