import type { PushedBranch } from '../git/index.js';
import type { AgentFilter } from '../store/types.js';
import type { LogPage, LogWait } from './logs.js';
import type { PublicAgent } from './public.js';
import type { KillAllReport } from './kill-all.js';
import type { LandRequest } from './landing.js';
import type { ReplyRequest } from './reply.js';
import type { RetryRequest } from './retry.js';
import type { AgentCheckout, AgentLanding, SpawnRequest } from './types.js';

export interface ListQuery extends AgentFilter {
  /** `local` (default): agents running here; `all`: also mirrored agents running on peers. */
  scope?: 'local' | 'all';
}

/**
 * What the HTTP layer and the CLI may do with agents. The local service
 * implements it for agents running here; federation wraps it so that remote
 * agents (spawned with `peer`) are handled through the same calls.
 */
export interface AgentApi {
  spawn(request: SpawnRequest): Promise<{ agent: PublicAgent; created: boolean }>;
  get(id: string): Promise<PublicAgent>;
  list(query: ListQuery): Promise<PublicAgent[]>;
  kill(id: string): Promise<PublicAgent>;
  killAll(): Promise<KillAllReport>;
  /** `force` discards a branch with commits its base does not have (else 409 `unmerged_commits`). */
  discard(id: string, opts?: { force?: boolean }): Promise<void>;
  /** Worktree and branch on disk now; null for an agent running on another instance. */
  checkout(id: string): Promise<AgentCheckout | null>;
  /** `wait`: long polling — an empty page of a running agent waits for its next line (a remote one's wait is on its peer). */
  logs(id: string, after: number, limit: number, wait?: LogWait): Promise<LogPage & { ended: boolean }>;
  diff(id: string): Promise<string>;
  land(id: string, request: LandRequest): Promise<{ agent: PublicAgent; landed: AgentLanding }>;
  retry(id: string, request: RetryRequest): Promise<PublicAgent>;
  /**
   * A follow-up of a finished agent: a new agent on its branch tip with
   * `prompt`, resuming its session (see reply.ts); a remote agent's goes to
   * its peer (`agent.reply`). 409 `agent_not_finished` while it runs.
   */
  reply(id: string, request: ReplyRequest): Promise<PublicAgent>;
  /** Brings a remote agent's branch into the repository here of the same name (or `repo`). */
  fetch(id: string, request: FetchRequest): Promise<FetchResult>;
  /** Pushes a finished agent's branch to a git remote of its repository here (a remote agent's is fetched first). */
  push(id: string, request: PushRequest): Promise<PushResult>;
}

export interface PushRequest {
  /** A remote the repository already has (default `origin`). */
  remote?: string;
  /** Also open a pull request with the `gh` CLI. */
  pr?: boolean;
}

export interface PushResult {
  agent: PublicAgent;
  pushed: PushedBranch;
}

export interface FetchRequest {
  repo?: string;
}

export interface FetchResult {
  agent: PublicAgent;
  fetched: { repo: string; branch: string; commit: string };
}
