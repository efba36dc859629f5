/** The agent data model (DESIGN §3). */

export const AGENT_STATES = ['queued', 'spawning', 'running', 'completed', 'failed', 'killed'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
export const TERMINAL_STATES: readonly AgentState[] = ['completed', 'failed', 'killed'];
export const ACTIVE_STATES: readonly AgentState[] = ['queued', 'spawning', 'running'];

export const AGENT_TYPES = ['worker', 'reviewer', 'tester'] as const;
export type AgentType = (typeof AGENT_TYPES)[number];

export interface ClaudeRuntime {
  kind: 'claude';
  model?: string;
  maxTurns?: number;
  permissionMode?: string;
  /** Session id to continue (`claude --resume`); set by retry with `resume`, never by a spawn request. */
  resume?: string;
}
export interface CommandRuntime {
  kind: 'command';
  argv: string[];
}
/** Codex CLI (`codex exec --json`), Gemini CLI (`gemini -p … --output-format stream-json`), opencode (`opencode run --format json`). */
export interface CodexRuntime {
  kind: 'codex';
  model?: string;
  /** Session (thread) id to continue; set by retry with `resume` and by reply, never by a spawn request. */
  resume?: string;
}
export interface GeminiRuntime {
  kind: 'gemini';
  model?: string;
  resume?: string;
}
export interface OpencodeRuntime {
  kind: 'opencode';
  /** `provider/model`, as opencode names them. */
  model?: string;
  resume?: string;
}
/** The agent CLIs Mosaic drives headless and reads the stream of (every runtime but command). */
export const STREAM_RUNTIME_KINDS = ['claude', 'codex', 'gemini', 'opencode'] as const;
export type RuntimeSpec = ClaudeRuntime | CommandRuntime | CodexRuntime | GeminiRuntime | OpencodeRuntime;
export type RuntimeKind = RuntimeSpec['kind'];

/**
 * Tokens one run used, in one convention for every runtime: `inputTokens`
 * includes the cached ones, `outputTokens` includes the reasoning ones
 * (`reasoningTokens` is 0 when the runtime does not report them apart).
 */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  reasoningTokens: number;
}

/** A validated spawn request (the HTTP schema guarantees shapes; the service checks meaning). */
export interface SpawnRequest {
  taskId: string;
  type?: AgentType;
  repo: string;
  baseBranch?: string;
  prompt: string;
  runtime?: RuntimeSpec;
  priority?: number;
  timeoutS?: number;
  env?: Record<string, string>;
  /** USD the agent may spend; past it Mosaic ends it `killed` with `budget_exceeded` (claude also gets `--max-budget-usd`). */
  budgetUsd?: number;
  peer?: string;
  idempotencyKey?: string;
  /** Cluster: run on this node only (409 node_draining when it is draining). */
  node?: string;
  /** Cluster: when its node is lost, start it again on another node (never for an agent pinned with `node`). */
  retryOnNodeLost?: boolean;
}

export interface AgentError {
  code: string;
  message: string;
}

/** What a running agent is doing, from its runtime's stream (every runtime but command). */
export interface AgentProgress {
  sessionId?: string;
  /** Turns (or steps) seen so far. */
  turns: number;
  /** The latest assistant text, shortened. */
  lastText?: string;
  /** Tools the latest turn used. */
  tools?: string[];
  /** Tokens used so far (codex: the thread's running total). */
  usage?: TokenUsage;
  /** Cost so far, as on the result (reported, estimated, or null when the model's price is unknown). */
  costUsd?: number | null;
  costEstimated?: boolean;
}

/**
 * What exists on disk for an agent now (computed when asked, never stored):
 * `none` = never created (the agent ended before it got that far).
 */
export interface AgentCheckout {
  worktree: 'present' | 'removed' | 'none';
  /** `unknown` when the repository is no longer registered. */
  branch: 'present' | 'deleted' | 'none' | 'unknown';
}

/** Summary of what an agent produced, filled in when it ends. */
export interface AgentResult {
  commitsAhead?: number;
  filesChanged?: number;
  snapshotCommit?: string | null;
  /**
   * Why the uncommitted work could not be saved when the agent ended: its
   * worktree was kept for reconciliation to retry, and the summary may be
   * incomplete until then.
   */
  snapshotError?: string;
  /**
   * Set when the agent ended `failed/work_not_saved`: where its work still is
   * (kept, never removed) and a command that brings its commits onto a branch.
   */
  workKept?: { worktree: string; gitDir: string | null; recover: string };
  /** Runtimes with a stream (claude, codex, gemini, opencode): the session a retry can resume. */
  sessionId?: string;
  /** The runtime's turns or steps (1 for a single codex exec). */
  turns?: number;
  /**
   * USD: reported by the runtime (claude, opencode) or computed from usage and
   * the price table (`costEstimated: true`); null when the model's price is
   * unknown (`costNote` says why), never a made-up number.
   */
  costUsd?: number | null;
  costEstimated?: boolean;
  costNote?: string;
  usage?: TokenUsage;
  /** The runtime's final text (the review, for reviewers). */
  summary?: string;
}

export const LAND_STRATEGIES = ['merge', 'squash', 'rebase'] as const;
export type LandStrategy = (typeof LAND_STRATEGIES)[number];

/** Where and how an agent's work was landed (the latest landing). */
export interface AgentLanding {
  /** The commit the target branch moved to. */
  commit: string;
  into: string;
  strategy: LandStrategy;
  at: number;
}

/** What a retried agent was started from (`retry`). */
export interface AgentRetry {
  /** The agent retried. */
  agentId: string;
  /** Set when Mosaic retried it by itself: `rate_limit` = the agent failed on its runtime's rate limit (retried once, after the reset). */
  reason?: 'rate_limit';
  /** Started on that agent's work (`continue`): its worktree begins at `startPoint`. */
  continue: boolean;
  /** Commit the worktree starts from instead of the base branch (the old branch's tip), or null. */
  startPoint: string | null;
  /** The claude session resumed, or null. */
  resumed: string | null;
}

/** Limits a peer's grant puts on the agents it spawns (DESIGN §4 "Grants"). */
export interface AgentLimits {
  /** claude: shell tools (Bash and the like) allowed. */
  shell: boolean;
  network: 'host' | 'none';
  /** The runtime may load the repository's own configuration (hooks, MCP servers …); absent = false. */
  projectConfig?: boolean;
}

/**
 * Where an agent's time went (DESIGN §3), in milliseconds. The phases follow
 * one another without gaps from `createdAt`, so for an ended agent they add up
 * to its wall time (`endedAt - createdAt`), give or take the final write.
 * A phase the agent did not reach is absent; one it passed through without
 * work (no setup, no sandbox) is 0. `worktree` (made cold) and `pool` (taken
 * from the warm pool) exclude each other.
 */
export interface AgentTimings {
  /** Waiting in the queue: created until a launch began. */
  queued?: number;
  /** Making its worktree and branch (cold). */
  worktree?: number;
  /** Taking a ready worktree from the warm pool (refresh and hand-over included). */
  pool?: number;
  /** copyFiles and shareDirs into the worktree. */
  copy?: number;
  /** Preparing the sandbox (private git dir, home, tmp), its port and environment included. */
  sandbox?: number;
  /** The repository's setup (0 when there is none or the pool had run it). */
  setup?: number;
  /** From starting the supervisor to the agent's first byte of output (or to running, when it printed nothing). */
  launch?: number;
  /** From the first byte of output until its end was noticed. */
  run?: number;
  /** Bringing a sandboxed agent's commits onto its branch (0 when unsandboxed). */
  import?: number;
  /** Committing what was left uncommitted. */
  snapshot?: number;
  /** Removing the worktree and its private git dir (summary included). */
  remove?: number;
}

export const TIMING_PHASES = ['queued', 'worktree', 'pool', 'copy', 'sandbox', 'setup', 'launch', 'run', 'import', 'snapshot', 'remove'] as const satisfies readonly (keyof AgentTimings)[];
export type TimingPhase = (typeof TIMING_PHASES)[number];

/** The phases up to `running` (recorded when the agent starts); the others are recorded when it ends. */
export const SPAWN_PHASES: readonly TimingPhase[] = ['queued', 'worktree', 'pool', 'copy', 'sandbox', 'setup'];

/** Timings as a peer (or any untrusted source) sent them: known phases with finite, non-negative whole ms; anything else dropped. */
export function parseTimings(value: unknown): AgentTimings | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const source = value as Record<string, unknown>;
  const out: AgentTimings = {};
  for (const phase of TIMING_PHASES) {
    const ms = source[phase];
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) out[phase] = Math.round(ms);
  }
  return out;
}

/**
 * Why a queued agent is not started although there may be room: a fleet
 * budget whose window is spent (`scope`: `instance`, `repo:<name>`,
 * `peer:<name>`) or its runtime paused by a rate limit. `resetsAt` (epoch
 * ms) is when that ends by itself; it may also end sooner (a budget raised).
 */
export type AgentWaiting =
  | { reason: 'budget'; scope: string; resetsAt: number }
  | { reason: 'rate_limit'; runtime: string; resetsAt: number }
  /** Cluster: no up node has the runtime's binary or the repository (it starts when one that has both is up). */
  | { reason: 'no_capable_node'; runtime: string; repo: string };

export interface AgentRecord {
  id: string;
  state: AgentState;
  taskId: string;
  type: AgentType;
  repo: string;
  branch: string;
  baseBranch: string;
  worktreePath: string;
  /** The worktree came ready from the repository's warm pool (DESIGN §3 "Warm pools"). */
  pooled: boolean;
  runtime: RuntimeSpec;
  prompt: string;
  /** Extra environment asked for at spawn; kept to launch queued agents, never shown by the API. */
  env: Record<string, string>;
  priority: number;
  timeoutS: number | null;
  /** The agent's own budget in USD (null: none). */
  budgetUsd: number | null;
  /** Set while a queued agent is held by a spent budget or a paused runtime (null otherwise). */
  waitingFor: AgentWaiting | null;
  /** `local`, or the instanceId of the peer that spawned it. */
  origin: string;
  idempotencyKey: string | null;
  /** The supervisor's pid while it runs. */
  pid: number | null;
  /** The agent's process group id (its own pid). */
  pgid: number | null;
  port: number | null;
  exitCode: number | null;
  error: AgentError | null;
  result: AgentResult | null;
  /** Live progress of an agent whose runtime has a stream (null for command agents or before its first turn). */
  progress: AgentProgress | null;
  /** Set when a kill was asked for, so the exit is recorded as `killed`. */
  killRequested: boolean;
  /** Set once the agent's work was landed into a branch (null until then). */
  landed: AgentLanding | null;
  /** Set on an agent made by `retry`. */
  retryOf: AgentRetry | null;
  /**
   * Set on a follow-up made by `reply` (same shape as `retryOf`; `continue`
   * is always true: a follow-up starts on the old agent's branch tip).
   */
  followUpOf: AgentRetry | null;
  /** The sandbox the agent runs in (`bubblewrap`), or null when it runs unsandboxed (or has not started). */
  sandbox: string | null;
  /** What the spawning peer's grant allows beyond the defaults (null for local agents). */
  limits: AgentLimits | null;
  /** Where its time went, phase by phase (ms); null until it left the queue. */
  timings: AgentTimings | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt: number;
  /** Cluster: the node it runs (or ran) on, or is pinned to; null or absent on a single machine and while unplaced. */
  node?: string | null;
  /** Cluster: a loss of its node starts it again on another node. */
  retryOnNodeLost?: boolean;
}

/** One entry of the event log: every agent transition, in order. */
export interface AgentEvent {
  seq: number;
  type: string;
  agentId: string;
  data: AgentRecord;
  createdAt: number;
}
