import type { TIMING_PHASES } from '../../src/core/agent-model';

export type TimingPhase = (typeof TIMING_PHASES)[number];
/** The shapes the API answers with (DESIGN §5), as far as the dashboard reads them. */

export const STATES = ['queued', 'spawning', 'running', 'completed', 'failed', 'killed'] as const;
export type AgentState = (typeof STATES)[number];
export const ACTIVE: readonly AgentState[] = ['queued', 'spawning', 'running'];

export interface Agent {
  id: string;
  state: AgentState;
  taskId: string;
  type: string;
  repo: string;
  branch: string;
  baseBranch: string;
  runtime: { kind: string; argv?: string[]; model?: string };
  prompt?: string;
  priority: number;
  origin: string;
  /** Set for an agent running on another instance. */
  instance?: string;
  peer?: string;
  /** Cluster: the node it runs (or ran) on, or is pinned to; null while queued for any node. */
  node?: string | null;
  /** A remote agent not finished whose peer is unreachable or silent: what is shown may be out of date. */
  stale?: boolean;
  /** A remote agent whose peer was disconnected while it ran: nothing from here reaches it. */
  orphaned?: boolean;
  peerContact?: { lastContactAt: number | null; unreachableSince: number | null; error?: string | null };
  exitCode: number | null;
  error: { code: string; message: string } | null;
  result: {
    commitsAhead?: number;
    filesChanged?: number;
    turns?: number;
    costUsd?: number | null;
    summary?: string;
  } | null;
  progress: { turns: number; lastText?: string; tools?: string[] } | null;
  killRequested: boolean;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  updatedAt?: number;
  sandbox?: unknown;
  /** Where its time went, in ms, phase by phase (issue 24); null until it left the queue. */
  timings?: Partial<Record<TimingPhase, number>> | null;
  /** Set once the agent's work was landed (instances with landing). */
  landed?: { commit: string; into: string; strategy: string; at: number } | null;
  retryOf?: { agentId: string; continue: boolean; reason?: 'rate_limit' } | null;
  /** Its own budget in USD (issue 18). */
  budgetUsd?: number | null;
  /** A queued agent held by a spent fleet budget or its runtime's rate limit (resetsAt: ms since epoch). */
  waitingFor?: { reason: 'budget'; scope: string; resetsAt: number } | { reason: 'rate_limit'; runtime: string; resetsAt: number }
    | { reason: 'no_capable_node'; runtime: string; repo: string } | null;
  /** A follow-up (`reply`) of another agent: the same conversation. */
  followUpOf?: { agentId: string; continue: boolean; resumed?: string | null } | null;
}

/** A runtime paused by (or close to) its rate limit: GET /api/v1/limits. */
export interface RuntimeLimit {
  runtime: string;
  state: 'paused' | 'warning';
  resetsAt: number;
}

export interface Repo {
  name: string;
  path: string;
  baseBranch: string;
  setup?: string[] | null;
  copyFiles?: string[];
  /** Warm pools (instances with pools): the size asked for, and what the pool holds now. */
  poolSize?: number;
  pool?: { size?: number; ready?: number; preparing?: number; error?: string };
  createdAt: number;
}

export interface Grants {
  commands: string[];
  repos: string[];
  runtimes: string[];
  maxActiveAgents: number;
}

export interface Connection {
  id: string;
  instanceId: string;
  name: string;
  url: string;
  state: string;
  direction: 'inbound' | 'outbound';
  grants: Grants;
  peerGrants: Grants | null;
  pull: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface Message {
  messageId: string;
  direction: 'in' | 'out';
  kind: string;
  peer: string;
  peerName: string | null;
  op: string | null;
  status: string;
  httpStatus: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
  createdAt: number;
}

/** The conflict radar of one repository (GET /repos/:name/conflicts, SSE `repo.conflicts`). */
export interface RepoConflicts {
  repo: string;
  pairs: { agents: string[]; paths: string[]; conflicts?: boolean }[];
  base: { agent: string; paths: string[] }[];
}
