import type { AgentEvent, AgentRecord, AgentState } from '../core/agent-model.js';

/** A registered repository (DESIGN §3). */
export interface RepoRecord {
  name: string;
  path: string;
  baseBranch: string;
  setup: string[] | null;
  copyFiles: string[];
  /** Worktrees kept ready at the base tip (0: no pool). */
  poolSize: number;
  /** Directories (e.g. node_modules) given to each worktree without a full copy. */
  shareDirs: string[];
  /** Globs whose change means setup must run again; null means the default lockfiles. */
  setupInputs: string[] | null;
  /** `none`: its agents run without network (sandboxed agents only). Default `host`. */
  network?: 'host' | 'none';
  /**
   * Local agents' runtimes may load the configuration the repository carries
   * (Claude Code's `.claude/settings*.json` hooks, `.mcp.json` servers …).
   * Default true.
   */
  projectConfig?: boolean;
  /** Cluster: the default of its spawns' retryOnNodeLost (default false; never for a spawn pinned to a node). */
  retryOnNodeLost?: boolean;
  /**
   * Shared by this git URL (issue 21): each node keeps its own clone, and
   * `path` is that clone on this node (`$MOSAIC_HOME/repos/<name>`). Null
   * (or absent): a repository at a local path.
   */
  url?: string | null;
  createdAt: number;
}

/** A queued agent as the scheduler weighs it against fleet budgets and rate limits (a few columns, cheap for 1,000). */
export type QueuedAgent = Pick<AgentRecord, 'id' | 'repo' | 'origin' | 'waitingFor'> & {
  runtime: { kind: AgentRecord['runtime']['kind'] };
  /** Insertion order (grows with every insert): a pass marks only agents after the last one it saw. */
  seq: number;
};

/** Queued agents nextQueued passes over: of these runtimes, repositories or origins. */
export interface QueueSkip {
  runtimes?: readonly string[];
  repos?: readonly string[];
  origins?: readonly string[];
}

export interface AgentFilter {
  state?: AgentState | AgentState[];
  repo?: string;
  taskId?: string;
  origin?: string;
  /** Cluster: agents placed on (or pinned to) this node. */
  node?: string;
}

/** Fields a transition may set besides the state. */
export type AgentPatch = Partial<Omit<AgentRecord, 'id' | 'state' | 'createdAt' | 'updatedAt'>>;

export interface RepoStore {
  insert(repo: RepoRecord): Promise<void>;
  get(name: string): Promise<RepoRecord | undefined>;
  list(): Promise<RepoRecord[]>;
  /** Replaces the editable fields of a registered repository (name, path and createdAt stay); false when unknown. */
  update(repo: RepoRecord): Promise<boolean>;
  remove(name: string): Promise<boolean>;
}

export interface AgentStore {
  /**
   * Inserts a new queued agent and its first event in one transaction. When
   * `idempotencyKey` is set and an agent with the same key and origin exists,
   * nothing is written and that agent is returned with `created: false`.
   */
  insert(agent: AgentRecord): Promise<{ agent: AgentRecord; created: boolean; event: AgentEvent | null }>;
  get(id: string): Promise<AgentRecord | undefined>;
  findByIdempotencyKey(origin: string, key: string): Promise<AgentRecord | undefined>;
  list(filter?: AgentFilter): Promise<AgentRecord[]>;
  countByState(state: AgentState | AgentState[]): Promise<number>;
  /** Queued agents inserted after `afterSeq` (all by default), in the order nextQueued gives them: only what a scheduler pass weighs. */
  queued(afterSeq?: number): Promise<QueuedAgent[]>;
  /** The next queued agent: highest priority, then oldest; passing over what `skip` names. */
  nextQueued(skip?: QueueSkip): Promise<AgentRecord | undefined>;
  /**
   * Moves an agent from one of `from` to `to`, applying `patch`, and appends
   * the event — one transaction. Returns undefined (writing nothing) when the
   * agent is not in one of `from`: the caller lost a race and must re-read.
   */
  transition(id: string, from: readonly AgentState[], to: AgentState, patch?: AgentPatch): Promise<{ agent: AgentRecord; event: AgentEvent } | undefined>;
  /** Updates non-state fields (pid, killRequested, ...) without an event. */
  update(id: string, patch: AgentPatch): Promise<AgentRecord | undefined>;
  /**
   * Updates non-state fields and appends an event of `type` (e.g.
   * `agent.landed`) in one transaction; undefined when the agent is gone.
   */
  updateWithEvent(id: string, patch: AgentPatch, type: string): Promise<{ agent: AgentRecord; event: AgentEvent } | undefined>;
  /** Deletes a terminal agent record. */
  remove(id: string): Promise<boolean>;
  /** Ports held by agents that are not terminal. */
  reservedPorts(): Promise<number[]>;
}

export interface EventStore {
  /** Appends an event that is not an agent transition (progress, remote mirrors). */
  append(type: string, agentId: string, data: AgentRecord): Promise<AgentEvent>;
  /** Events with seq > after, oldest first. */
  after(seq: number, limit?: number): Promise<AgentEvent[]>;
  lastSeq(): Promise<number>;
}

/** The tables of the store, as a transaction sees them. */
export interface StoreTables {
  readonly repos: RepoStore;
  readonly agents: AgentStore;
  readonly events: EventStore;
}

/**
 * Persistence behind one interface, on SQLite (the embedded default) or
 * PostgreSQL (a database server several processes share). Each method is
 * atomic on its own (a transition and its event are one transaction), so
 * callers rarely need `transaction`; when they do, they use only the tables
 * it hands them.
 */
export interface Store extends StoreTables {
  /** Runs `fn` in one transaction: its tables write in it, a throw rolls it all back. */
  transaction<T>(fn: (tx: StoreTables) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
