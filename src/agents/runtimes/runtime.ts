/**
 * The one interface every agent runtime (claude, codex, gemini, opencode,
 * command) is driven through. The launcher, the outcome judge, the progress
 * tracker, spawn validation and retry only ever see this interface; each
 * runtime's module knows its CLI's flags and output format.
 */
import type { AgentError, AgentType, RuntimeKind, RuntimeSpec, TokenUsage } from '../types.js';

/** The executables of the runtimes (MOSAIC_CLAUDE_BIN, MOSAIC_CODEX_BIN, …). */
export interface RuntimeBins {
  claude: string;
  codex: string;
  gemini: string;
  opencode: string;
}

/** What an invocation is built from besides the runtime spec. */
export interface InvocationInput {
  bins: RuntimeBins;
  prompt: string;
  type: AgentType;
  /** Shell tools allowed (default true; a peer's grant may say no). */
  shell: boolean;
  /**
   * Whether the runtime may load the configuration the repository carries
   * (hooks, MCP servers, plugins …: code). Decided by project-config.ts;
   * when false a runtime must disable what README.md in this folder lists.
   */
  projectConfig: boolean;
  /** The agent's own budget, for runtimes that can stop themselves at it (claude `--max-budget-usd`). */
  budgetUsd?: number | null;
}

export interface Invocation {
  argv: string[];
  /** Variables this runtime needs set in the agent's environment (never secrets). */
  env?: Record<string, string>;
}

/**
 * What one run said, in one shape for every runtime. `usage` follows
 * Mosaic's convention whatever the CLI's: inputTokens includes cached
 * input, outputTokens includes reasoning.
 */
export interface RunSummary {
  /** The runtime printed its final event (a result, a completed turn…). */
  sawFinal: boolean;
  /** The run reported a failure (an error result, a fatal error event). */
  isError: boolean;
  /** The runtime's own words for the failure. */
  errorMessage?: string;
  /** A typed reason, when the runtime named one (`not_logged_in`, `rate_limited`). */
  errorCode?: string;
  sessionId?: string;
  /** The model the stream named. */
  model?: string;
  turns?: number;
  usage?: TokenUsage;
  /** The cost the runtime itself reported (claude, opencode); computed costs are Mosaic's (pricing.ts). */
  reportedCostUsd?: number;
  /** The final answer (a reviewer's review). */
  resultText?: string;
  /** The latest assistant text, for a run that stopped without a final event. */
  lastText?: string;
  /** Tools the latest turn used. */
  lastTools?: string[];
  /** The latest rate-limit signal the run printed (`rejected`: stopped by it; `warning`: close to it). */
  rateLimit?: RateLimitSignal;
  /** The runtime is retrying (reconnecting, backing off) rather than working. */
  retrying?: string;
}

/**
 * A runtime's rate-limit signal: `rejected` = the vendor refused work until
 * `resetsAt` (epoch ms, when the runtime said); `warning` = close to the
 * limit (Claude's `allowed_warning`): shown, pauses nothing.
 */
export interface RateLimitSignal {
  state: 'rejected' | 'warning';
  resetsAt?: number;
}

/** What a line meant, for progress events and benchmarks; null for lines that change nothing. */
export type StreamEvent =
  | { kind: 'init'; sessionId?: string; model?: string }
  | { kind: 'text'; turn: number; text: string }
  | { kind: 'tool'; turn: number; name: string }
  | { kind: 'tool_result'; isError: boolean }
  | { kind: 'turn'; turn: number }
  | { kind: 'usage'; usage: TokenUsage; costUsd?: number }
  | { kind: 'error'; message: string; fatal: boolean }
  | { kind: 'retrying'; message: string }
  | { kind: 'rate_limit'; state: 'rejected' | 'warning' | 'allowed'; resetsAt?: number }
  | { kind: 'final'; isError: boolean };

/** Reads one run's output, line by line (stdout and stderr mixed, as the log holds them). */
export interface RuntimeStream {
  push(line: string): StreamEvent[];
  summary(): RunSummary;
}

export interface AgentRuntime<S extends RuntimeSpec = RuntimeSpec> {
  readonly kind: S['kind'];
  /**
   * The request's runtime checked (400 `invalid_runtime` naming the field)
   * and copied with only the fields this runtime knows.
   */
  normalize(spec: S): S;
  /** The argv (and environment additions) of one run; throws 400s for what cannot be run. */
  invocation(spec: S, input: InvocationInput): Invocation;
  /** A reader of this runtime's output; null when the output is opaque (only the exit code counts). */
  stream(): RuntimeStream | null;
  /** The spec continuing `sessionId`; absent when the runtime has no sessions to resume. */
  resume?(spec: S, sessionId: string): S;
  /** The spec without any recorded session (a plain retry starts afresh). */
  fresh(spec: S): S;
  /**
   * The rate-limit signal one line of this runtime's output carries (its
   * log: stdout and stderr mixed), or null. Stateless and cheap, for the
   * scheduler to call on every line it reads; never throws on any input.
   * Claude: `rate_limit_event`; codex, gemini, opencode: their rate-limit
   * errors (429, quota exhausted), `rejected` with the reset when named.
   */
  rateLimitOf(line: string): RateLimitSignal | null;
  /** A check to run before launching (see Preflight); null or absent when none is needed. */
  preflight?(bins: RuntimeBins, env: Record<string, string>): Preflight | null;
  /** Login files bound into this runtime's sandbox (and no other's). */
  readonly credentials?: readonly CredentialFile[];
}

/**
 * A short check run before the agent (outside its sandbox, with its
 * environment, bounded): an error ends the agent `failed` at once instead of
 * letting the CLI hang (codex offline without a login retries for ever).
 */
export interface Preflight {
  argv: string[];
  timeoutMs: number;
  judge(result: { exitCode: number | null; output: string; timedOut: boolean }): AgentError | null;
}

/** A login file of a runtime, relative to HOME, bound into that runtime's sandbox only. */
export interface CredentialFile {
  path: string;
  /** The CLI refreshes it in place (Codex's ChatGPT tokens); else read-only. */
  writable?: boolean;
}

/** Narrows a spec to its runtime's own type. */
export type SpecOf<K extends RuntimeKind> = Extract<RuntimeSpec, { kind: K }>;
