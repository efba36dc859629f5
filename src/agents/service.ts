import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../core/config.js';
import { conflict, invalid, isMosaicError, messageOf, notFound } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { assertRefName, branchExists, pushBranch, resolveCommit, trustAgentOwnedTrees, type BranchBundle, type PushedBranch, type WorktreeManager } from '../git/index.js';
import { RepoRemotes } from '../repos/remotes.js';
import type { AgentFilter, Store } from '../store/types.js';
import type { PushRequest } from './api.js';
import { agentDir, agentLogPath, type AgentContext } from './context.js';
import type { EventBus } from './event-bus.js';
import { Checkpointer } from './checkpoints.js';
import { AgentFinisher } from './finisher.js';
import { agentUserFor, assertProgramsVisible, probeFor, removeTree, sandboxUnavailable, secretPaths, willSandbox } from './sandbox/index.js';
import { AgentLauncher } from './launcher.js';
import { ConflictWatcher } from './conflicts.js';
import { killEach, type KillAllReport } from './kill-all.js';
import { landAgent, landWork, type LandableWork, type LandRequest } from './landing.js';
import type { RetryRequest } from './retry.js';
import type { ReplyRequest } from './reply.js';
import { Requeue } from './requeue.js';
import { isTerminal } from './lifecycle.js';
import { LOG_WAIT_POLL_MS, MAX_LOG_WAIT_MS, readLogPage, type LogPage, type LogWait } from './logs.js';
import { AgentMonitor } from './monitor.js';
import { requestKill } from './supervisor/index.js';
import { WarmPool } from './pool/index.js';
import { Reconciler, type ReconcileReport, type WorktreeView } from './reconciler.js';
import { reattachSpawning, remountWorktrees } from './reattach.js';
import { AgentRecorder, type TimingsListener } from './recorder.js';
import type { NodePlacement } from './placement.js';
import { Scheduler } from './scheduler.js';
import { buildAgentRecord } from './spawn-request.js';
import type { QueueGate } from './gate.js';
import type { AgentCheckout, AgentError, AgentLanding, AgentLimits, AgentRecord, SpawnRequest } from './types.js';

export interface AgentServiceDeps {
  config: Config;
  store: Store;
  git: WorktreeManager;
  bus: EventBus;
  logger: Logger;
}

/**
 * The agents of this instance: spawn, watch, kill, discard. HTTP routes and
 * federation handlers call this and nothing below it.
 */
export class AgentService {
  private readonly ctx: AgentContext;
  private readonly finisher: AgentFinisher;
  private readonly launcher: AgentLauncher;
  private readonly scheduler: Scheduler;
  private readonly monitor: AgentMonitor;
  private readonly reconciler: Reconciler;
  private readonly checkpoints: Checkpointer;
  private readonly requeue: Requeue;
  /** The conflict radar of every repository (GET /repos/:name/conflicts, SSE repo.conflicts). */
  readonly conflicts: ConflictWatcher;
  /** Warm worktree pools of the registered repositories. */
  readonly pool: WarmPool;
  /** Repositories shared by URL: this node's clones (the registry clones a new one through it). */
  readonly remotes: RepoRemotes;

  /** Phases' timings as this process records them (see AgentRecorder.onTimings): the metrics' histogram. */
  onTimings(listener: TimingsListener): () => void {
    return this.ctx.recorder.onTimings(listener);
  }

  constructor(deps: AgentServiceDeps) {
    // As root, agents' trees belong to the agent user: Mosaic's git must still work in them (and a bad MOSAIC_AGENT_USER stops the start).
    trustAgentOwnedTrees(agentUserFor(deps.config)?.uid ?? null);
    const recorder = new AgentRecorder(deps.store, deps.bus, deps.logger);
    const remotes = new RepoRemotes({ fetchTimeoutMs: deps.config.repoFetchTimeoutS * 1000, logger: deps.logger });
    this.ctx = { ...deps, recorder, remotes };
    this.remotes = remotes;
    this.finisher = new AgentFinisher(this.ctx);
    this.pool = new WarmPool(this.ctx);
    this.launcher = new AgentLauncher(this.ctx, this.finisher, this.pool, (id) => this.monitor.watch(id));
    this.scheduler = new Scheduler(this.ctx, this.launcher);
    this.monitor = new AgentMonitor(this.ctx, this.finisher, () => this.scheduler.pump());
    this.checkpoints = new Checkpointer(this.ctx, () => this.monitor.running);
    this.reconciler = new Reconciler(this.ctx, (repo, path) => this.pool.owns(repo, path));
    this.conflicts = new ConflictWatcher(this.ctx);
    this.requeue = new Requeue(this.ctx, (agent) => this.enqueued(agent));
  }

  /** Fleet governance (budgets, rate limits): consulted before every start. Set before `start()`. */
  setGate(gate: QueueGate): void {
    this.ctx.gate = gate;
  }

  /** Cluster: this server is a node; set before `start()` (src/cluster). */
  attachPlacement(placement: NodePlacement): void {
    this.ctx.placement = placement;
  }

  /** Asks the scheduler for another pass (a budget raised, a window or a rate limit reset; cluster: spawns made on other nodes). */
  pump(): void {
    this.scheduler.pump();
  }

  /** This node's running agents as the monitor last saw them (cluster self-fencing kills them). */
  runningHere(): AgentRecord[] {
    return this.monitor.running;
  }

  /**
   * Cluster: an agent whose node was lost ends `failed/node_lost` (written by
   * the node that found the loss); when it asked for it, a new agent with the
   * same request is queued (`retryOf`) for another node. Undefined when it had
   * ended already.
   */
  async endNodeLost(id: string, node: string): Promise<{ ended: AgentRecord; retry: AgentRecord | null } | undefined> {
    const ended = await this.ctx.recorder.transition(id, ['spawning', 'running'], 'failed', {
      endedAt: Date.now(), error: { code: 'node_lost', message: `node '${node}' was lost (no heartbeat within its lease) while this agent ran there` },
    });
    if (!ended) return undefined;
    return { ended, retry: await this.requeue.afterNodeLost(ended) };
  }

  /**
   * Cluster self-fencing: ends the processes of these agents of this node at
   * once (their supervisors and process groups, proven ours as for any kill),
   * without recording anything: the node lost its lease, others decide.
   */
  fenceKill(agents: readonly AgentRecord[]): void {
    for (const agent of agents) {
      this.launcher.abortSetup(agent.id);
      // The pid files in its folder name the supervisor and the group (proven ours) when the record does not yet.
      requestKill({ agentId: agent.id, agentDir: agentDir(this.ctx.config, agent.id), supervisorPid: agent.pid, pgid: agent.pgid, graceMs: 0 });
    }
  }

  /** A new queued agent: in a cluster it goes to the cluster's queue; then look for work. */
  private async enqueued(agent: AgentRecord): Promise<void> {
    await this.ctx.placement?.queued(agent);
    this.scheduler.pump();
  }

  /** One scheduling decision without starting anything (benchmarks): the agent that would start next. */
  decideNext(): Promise<AgentRecord | undefined> {
    return this.scheduler.decide(true);
  }

  /** Re-attaches to agents a previous server left behind, cleans orphans, starts the queue. */
  async start(): Promise<void> {
    await remountWorktrees(this.ctx);
    await reattachSpawning(this.ctx, this.finisher);
    await this.monitor.tick();
    await this.reconciler.reconcile();
    this.monitor.start();
    this.checkpoints.start();
    this.scheduler.pump();
    await this.pool.start();
  }

  /** Stops watching; agents keep running under their supervisors. */
  async stop(): Promise<void> {
    this.monitor.stop();
    this.checkpoints.stop();
    this.conflicts.stop();
    await this.scheduler.stop();
    await this.pool.stop();
  }

  async spawn(request: SpawnRequest, origin = 'local', limits: AgentLimits | null = null): Promise<{ agent: AgentRecord; created: boolean }> {
    const repo = await this.ctx.store.repos.get(request.repo);
    if (!repo) throw invalid('unknown_repo', `repository '${request.repo}' is not registered`, { field: 'repo' });
    // A peer's agent always runs sandboxed: without a sandbox, refuse before anything is created.
    if (origin !== 'local') {
      const probe = probeFor(this.ctx.config);
      if (!probe.available) throw sandboxUnavailable(probe.reason);
    }
    const placement = this.ctx.placement;
    if (request.node !== undefined && placement === undefined) throw invalid('not_a_cluster', 'node: this instance is not a cluster (no MOSAIC_CLUSTER_SECRET)', { field: 'node' });
    const record = {
      ...buildAgentRecord(request, repo, origin), limits,
      // retryOnNodeLost: the spawn's own value, else its repository's default; never for a spawn pinned to a node.
      ...(placement === undefined ? {} : { node: request.node ?? null, retryOnNodeLost: request.node === undefined && (request.retryOnNodeLost ?? repo.retryOnNodeLost ?? false) }),
    };
    if (request.node !== undefined) await placement?.checkPin(request.node, { runtime: record.runtime.kind, repo: repo.name });
    // A program of the caller's choosing that lives where the sandbox hides things ($MOSAIC_HOME, a repository's
    // .git): binding it back would show them. Refused now, not at launch (checked again there, for relative paths).
    if (record.runtime.kind === 'command' && willSandbox(this.ctx.config, origin)) {
      const repoPaths = (await this.ctx.store.repos.list()).map((r) => r.path);
      assertProgramsVisible(record.runtime.argv.slice(0, 1), record.env.PATH ?? process.env.PATH, record.worktreePath, secretPaths(this.ctx.config.home, repoPaths));
    }
    // A base given by the caller must name a commit now: failing at launch would leave a failed agent behind.
    if (request.baseBranch !== undefined && (await resolveCommit(repo.path, assertRefName('baseBranch', request.baseBranch))) === null) {
      throw invalid('unknown_base_branch', `'${request.baseBranch}' is not a branch or commit in ${repo.name}`, { field: 'baseBranch' });
    }
    if (request.idempotencyKey !== undefined) {
      const existing = await this.ctx.store.agents.findByIdempotencyKey(origin, request.idempotencyKey);
      if (existing) return { agent: existing, created: false };
    }
    await this.requeue.checkRoom();
    const { agent, created } = await this.ctx.recorder.insert(record);
    if (!created) return { agent, created };
    await this.enqueued(agent);
    return { agent, created };
  }

  async get(id: string): Promise<AgentRecord> {
    const agent = await this.ctx.store.agents.get(id);
    if (!agent) throw notFound('agent_not_found', `no agent '${id}'`);
    return agent;
  }

  list(filter: AgentFilter = {}): Promise<AgentRecord[]> {
    return this.ctx.store.agents.list(filter);
  }

  /**
   * Asks an agent to stop. A queued agent ends `killed` at once; a spawning or
   * running one is marked and signalled, and ends `killed` when its process
   * tree is gone (SIGTERM, then SIGKILL after the grace period).
   */
  async kill(id: string, reason: AgentError | null = null): Promise<AgentRecord> {
    for (;;) {
      const agent = await this.get(id);
      if (isTerminal(agent.state)) throw conflict('agent_not_active', `agent '${id}' is already ${agent.state}`, { state: agent.state });
      if (agent.state === 'queued') {
        const killed = await this.ctx.recorder.transition(id, ['queued'], 'killed', { endedAt: Date.now(), error: reason, waitingFor: null });
        if (killed) return killed;
        continue; // it started meanwhile: kill it as a spawning or running agent
      }
      // The reason (budget_exceeded) stays on the record and the finisher keeps it on the killed agent.
      const marked = (await this.ctx.store.agents.update(id, { killRequested: true, ...(reason ? { error: reason } : {}) })) ?? agent;
      // In a cluster, another node's agent is signalled by that node: asked at once over its internal URL,
      // and its monitor signals it anyway when it sees killRequested (that node unreachable now, or restarting).
      const remote = this.ctx.placement?.remote(marked);
      if (remote !== undefined) {
        await remote.kill().catch((err: unknown) => this.ctx.logger.warn({ agentId: id, node: marked.node, err: messageOf(err) }, 'forwarded kill failed; the node\'s monitor signals it'));
        return marked;
      }
      if (this.ctx.placement !== undefined && marked.node !== this.ctx.placement.node) return marked; // pinned elsewhere, still queued there
      if (marked.state === 'running') this.finisher.signalKill(id, marked.pid, marked.pgid);
      else this.launcher.abortSetup(id); // spawning: a long setup (npm ci) must not hold the kill
      return marked;
    }
  }

  /**
   * Cluster, node to node: another node marked this node's agent
   * killRequested; signal it now (what this node's monitor would do at its next pass).
   */
  async killHere(id: string): Promise<void> {
    const agent = await this.get(id);
    if (isTerminal(agent.state) || !agent.killRequested) return;
    if (this.ctx.placement !== undefined && agent.node !== this.ctx.placement.node) throw conflict('agent_not_here', `agent '${id}' runs on node '${agent.node}'`, { node: agent.node });
    if (agent.state === 'running') this.finisher.signalKill(id, agent.pid, agent.pgid);
    else if (agent.state === 'spawning') this.launcher.abortSetup(id);
  }

  async killAll(filter: AgentFilter = {}): Promise<KillAllReport> {
    const active = await this.ctx.store.agents.list({ ...filter, state: ['queued', 'spawning', 'running'] });
    return killEach(active, (agent) => agent.id, (agent) => this.kill(agent.id));
  }

  /**
   * Deletes a terminal agent: its record, its branch and its log folder. A
   * branch with commits that are not in its base (and were never landed) is
   * work that would be lost: that needs `force` (409 `unmerged_commits`).
   */
  async discard(id: string, opts: { force?: boolean } = {}): Promise<void> {
    const agent = await this.get(id);
    if (!isTerminal(agent.state)) throw conflict('agent_active', `agent '${id}' is ${agent.state}; kill it first`, { state: agent.state });
    const repo = await this.ctx.store.repos.get(agent.repo);
    // Shared by URL: its branch may be on the remote only (it ran on another node); judged and deleted here.
    if (repo?.url) await this.ctx.remotes.adopt(repo, agent.branch);
    if (repo && !opts.force && !agent.landed && (await branchExists(repo.path, agent.branch))) {
      const { commitsAhead } = await this.ctx.git.summary(repo.path, agent.baseBranch, agent.branch);
      if (commitsAhead > 0) {
        throw conflict('unmerged_commits',
          `agent '${id}' has ${commitsAhead} commit${commitsAhead === 1 ? '' : 's'} on ${agent.branch} that ${agent.baseBranch} does not have; land it first or discard with force`,
          { commitsAhead, branch: agent.branch, baseBranch: agent.baseBranch });
      }
    }
    if (repo) await this.ctx.git.deleteBranch(repo.path, agent.branch);
    await this.ctx.store.agents.remove(id);
    removeTree(agentDir(this.ctx.config, id));
  }

  /**
   * What is on disk for an agent now: its worktree (present, or removed after
   * it ended) and its branch (absent when the agent ended before it was
   * created, e.g. killed while queued).
   */
  async checkout(id: string): Promise<AgentCheckout> {
    const agent = await this.get(id);
    const repo = await this.ctx.store.repos.get(agent.repo);
    // Shared by URL, on a node that has not cloned it yet: what is on disk here says nothing.
    if (repo?.url && !existsSync(repo.path)) return { worktree: existsSync(agent.worktreePath) ? 'present' : 'none', branch: 'unknown' };
    const branch = repo !== undefined && (await branchExists(repo.path, agent.branch));
    const worktree = existsSync(agent.worktreePath) ? 'present' : branch || agent.startedAt !== null ? 'removed' : 'none';
    if (repo === undefined) return { worktree, branch: 'unknown' };
    return { worktree, branch: branch ? 'present' : agent.startedAt !== null ? 'deleted' : 'none' };
  }

  /** A page of the agent's log; with `wait`, an empty page of a running agent waits for its next line (see LogWait). */
  async logs(id: string, after = 0, limit = 1000, wait: LogWait = {}): Promise<LogPage & { ended: boolean }> {
    const deadline = Date.now() + Math.min(Math.max(0, wait.waitMs ?? 0), MAX_LOG_WAIT_MS);
    // In a cluster the log is on the node that runs (or ran) the agent.
    const remote = this.ctx.placement?.remote(await this.get(id));
    if (remote) return remote.logs(after, limit, wait);
    for (;;) {
      const agent = await this.get(id);
      const ended = isTerminal(agent.state);
      const page = readLogPage(agentLogPath(this.ctx.config, id), after, limit, ended);
      if (page.lines.length > 0 || ended || Date.now() >= deadline || wait.signal?.aborted) return { ...page, ended };
      await delay(LOG_WAIT_POLL_MS, undefined, { signal: wait.signal }).catch(() => {}); // aborted: answer with what there is
    }
  }

  async diff(id: string): Promise<string> {
    const agent = await this.get(id);
    const repo = await this.ctx.store.repos.get(agent.repo);
    // In a cluster a running agent's uncommitted work is in its worktree on its node; a finished one's branch
    // in a repository shared by URL is on the remote, read here (its node may be gone).
    const remote = repo?.url && isTerminal(agent.state) ? undefined : this.ctx.placement?.remote(agent);
    if (remote) return remote.diff();
    if (!repo) throw notFound('repo_not_found', `repository '${agent.repo}' is no longer registered`);
    if (repo.url && isTerminal(agent.state)) await this.ctx.remotes.adopt(repo, agent.branch);
    if (agent.state === 'queued') return '';
    // Ended before its branch was made (killed while queued, failed to start): nothing to diff.
    if (isTerminal(agent.state) && !(await branchExists(repo.path, agent.branch))) return '';
    if ((agent.state === 'running' || agent.state === 'spawning') && existsSync(agent.worktreePath)) {
      try {
        // What a snapshot would commit now; the files Mosaic copied in (secrets like .env) never show.
        return await this.ctx.git.diffLive(repo.path, agent.baseBranch, agent.worktreePath, repo.copyFiles);
      } catch (err) {
        // The agent ended and its worktree went away meanwhile: its branch now holds everything.
        if (existsSync(agent.worktreePath) || (isMosaicError(err) && err.status === 413)) throw err;
      }
    }
    return this.ctx.git.diff(repo.path, agent.baseBranch, agent.branch);
  }

  /** Lands a finished agent's branch into its base (or `into`); see landing.ts. */
  async land(id: string, request: LandRequest = {}): Promise<{ agent: AgentRecord; landed: AgentLanding }> {
    return landAgent(this.ctx, await this.get(id), request);
  }

  /** A new agent with the same request as a finished one (see retry.ts); 202 semantics: it is queued. */
  async retry(id: string, request: RetryRequest = {}): Promise<AgentRecord> {
    return this.requeue.retry(await this.get(id), request);
  }

  /** The one automatic retry of an agent that failed on its runtime's rate limit (see requeue.ts). */
  retryAfterRateLimit(id: string): Promise<AgentRecord | undefined> {
    return this.requeue.afterRateLimit(id);
  }

  /** A follow-up (`reply`, see reply.ts and requeue.ts); 202 semantics: it is queued. */
  reply(id: string, request: ReplyRequest, origin = 'local', limits: AgentLimits | null = null): Promise<AgentRecord> {
    return this.requeue.reply(id, (agentId) => this.get(agentId), request, origin, limits);
  }

  /**
   * Pushes a finished agent's branch to one of its repository's git remotes
   * (default `origin`); `pr` also opens a pull request with `gh`, titled by
   * the task and carrying the agent's result summary.
   */
  async push(id: string, request: PushRequest = {}): Promise<{ agent: AgentRecord; pushed: PushedBranch }> {
    const agent = await this.get(id);
    if (!isTerminal(agent.state)) {
      throw conflict('agent_not_finished', `agent '${id}' is ${agent.state}; its branch can be pushed once it has ended`, { state: agent.state });
    }
    return { agent, pushed: await this.pushBranch(agent.repo, agent, request) };
  }

  /** Pushes a branch already in a repository here (a remote agent's fetched work, or a local agent's). */
  async pushBranch(repoName: string, work: { branch: string; baseBranch: string; taskId: string; result?: AgentRecord['result'] }, request: PushRequest): Promise<PushedBranch> {
    const repo = await this.ctx.store.repos.get(repoName);
    if (!repo) throw notFound('repo_not_found', `repository '${repoName}' is no longer registered`);
    const pr = request.pr === true
      ? { base: work.baseBranch, title: work.taskId, body: work.result?.summary ?? `Work of Mosaic agent branch ${work.branch}.` }
      : undefined;
    return pushBranch(repo.path, request.remote ?? 'origin', work.branch, pr);
  }

  /** A finished agent's branch as a git bundle relative to its base, for a peer to fetch (agent.bundle). */
  async bundle(id: string): Promise<BranchBundle> {
    const agent = await this.get(id);
    if (!isTerminal(agent.state)) {
      throw conflict('agent_not_finished', `agent '${id}' is ${agent.state}; its work can be fetched once it has ended`, { state: agent.state });
    }
    const repo = await this.ctx.store.repos.get(agent.repo);
    if (!repo) throw notFound('repo_not_found', `repository '${agent.repo}' is no longer registered`);
    await this.ctx.remotes.adopt(repo, agent.branch); // shared by URL: it may have run on another node
    return this.ctx.git.bundle(repo.path, agent.branch, agent.baseBranch, this.ctx.config.bundleMaxBytes);
  }

  /** Brings a bundle of a remote agent's branch into a registered repository here (see git/bundle.ts). */
  async importBundle(repoName: string, bundle: { branch: string; head: string; base: string; bytes: Buffer }): Promise<{ repo: string; branch: string; commit: string }> {
    const repo = await this.ctx.store.repos.get(repoName);
    if (!repo) throw notFound('repo_not_found', `no repository '${repoName}' here to bring the work into (pass {repo})`);
    const result = await this.ctx.git.importBundle({ repoPath: repo.path, maxBytes: this.ctx.config.bundleMaxBytes, ...bundle });
    return { repo: repo.name, ...result };
  }

  /** Lands a branch already in a repository here (a remote agent's fetched work); nothing is recorded on an agent. */
  landBranch(repoName: string, work: LandableWork, request: LandRequest): Promise<AgentLanding> {
    return landWork(this.ctx, repoName, work, request);
  }

  worktrees(): Promise<WorktreeView[]> {
    return this.reconciler.list();
  }

  reconcile(): Promise<ReconcileReport> {
    return this.reconciler.reconcile();
  }

  /** Active agents using a repository (a repository in use cannot be removed). */
  async activeIn(repo: string): Promise<number> {
    return (await this.ctx.store.agents.list({ repo, state: ['queued', 'spawning', 'running'] })).length;
  }

}
