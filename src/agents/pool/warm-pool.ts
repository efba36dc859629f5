import { appendFileSync, readFileSync } from 'node:fs';
import { messageOf } from '../../core/errors.js';
import { inspectPooled, poolIdOfPath, resolveCommit, setupInputsChanged } from '../../git/index.js';
import type { RepoRecord } from '../../store/types.js';
import { agentDir, agentLogPath, type AgentContext } from '../context.js';
import { agentUserFor, willSandbox } from '../sandbox/index.js';
import { agentLayersRoot, dropSnapshots, moveLayers, poolLayersRoot, provideShareDirs, shareModeFor, type ShareMode } from '../share/index.js';
import type { AgentRecord } from '../types.js';
import { PoolEntries, poolConfigKey, setupInputsOf, type Entry } from './entries.js';
import { deleteMarker, markerExists, poolLogPath, repoPoolDirs } from './markers.js';
import { dropLeftovers, restorePool } from './restore.js';
import { PoolWorker, type PoolWorkerOptions } from './worker.js';

export { poolConfigKey } from './entries.js';

/** What `GET /repos/:name` shows of a pool. */
export interface PoolStatus {
  size: number;
  ready: number;
  preparing: number;
  /** The last failure to prepare a pooled worktree (e.g. its setup failed), until one succeeds. */
  error?: string;
}

export interface ObtainedWorktree {
  /** The worktree came from the pool. */
  pooled: boolean;
  /** setup already ran for this worktree's inputs (false: the launcher runs it). */
  setupDone: boolean;
  /** Of the time obtain took, how much went to copyFiles and shareDirs (the `copy` timing). */
  copyMs: number;
}

export interface WarmPoolOptions extends PoolWorkerOptions {
  /** How often ready worktrees are checked against the base tip (default 5 s). */
  checkEveryMs?: number;
}

/**
 * Keeps `poolSize` worktrees per repository ready at the base tip (copyFiles,
 * shareDirs and setup done), hands one to a spawn by renaming it, and refills
 * in the background (worker.ts), one preparation at a time and only when no
 * launch is under way, with its setup niced: spawns always go first.
 */
export class WarmPool {
  private readonly pool: PoolEntries;
  private readonly worker: PoolWorker;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly ctx: AgentContext, private readonly opts: WarmPoolOptions = {}) {
    this.pool = new PoolEntries(ctx);
    this.worker = new PoolWorker(ctx, this.pool, opts);
  }

  /** Re-checks what a previous server left (refreshing or rebuilding it), then fills every pool in the background. */
  async start(): Promise<void> {
    const repos = await this.ctx.store.repos.list();
    const registered = new Set(repos.map((r) => r.name));
    for (const name of repoPoolDirs(this.ctx.config.home)) {
      if (!registered.has(name)) await dropLeftovers(this.ctx, this.pool, name);
    }
    for (const repo of repos) {
      try {
        await this.pool.locks.run(repo.name, () => restorePool(this.ctx, this.pool, repo));
      } catch (err) {
        this.ctx.logger.warn({ repo: repo.name, err: messageOf(err) }, 'pool: could not re-check pooled worktrees');
      }
      this.worker.schedule(repo.name);
    }
    const every = this.opts.checkEveryMs ?? 5000;
    this.timer = setInterval(() => {
      for (const name of this.pool.byRepo.keys()) this.worker.schedule(name);
    }, every);
    this.timer.unref();
  }

  /** Stops refilling; a setup under way is ended (its worktree is rebuilt at the next start). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const stopping = this.worker.stop();
    for (const entries of this.pool.byRepo.values()) for (const entry of entries.values()) entry.abort?.abort();
    await stopping;
  }

  status(repo: RepoRecord): PoolStatus {
    const entries = [...(this.pool.byRepo.get(repo.name)?.values() ?? [])].filter((e) => !e.taken);
    const failure = this.pool.failures.get(repo.name);
    return {
      size: repo.poolSize,
      ready: entries.filter((e) => e.state === 'ready').length,
      preparing: entries.filter((e) => e.state === 'preparing').length,
      ...(failure ? { error: failure.message } : {}),
    };
  }

  /** True when `path` is one of this instance's pooled worktrees of `repo` (the reconciler leaves those alone). */
  owns(repo: RepoRecord, path: string): boolean {
    const id = poolIdOfPath(repo.path, path);
    return id !== null && markerExists(this.ctx.config.home, repo.name, id);
  }

  /** A repository was registered or edited: trim, rebuild or fill its pool to match. */
  configure(repo: RepoRecord): void {
    this.pool.failures.delete(repo.name);
    const key = poolConfigKey(repo);
    const live = [...(this.pool.byRepo.get(repo.name)?.values() ?? [])].filter((e) => !e.taken);
    // Preparations that can no longer be used stop now rather than after a long setup.
    let extra = live.length - repo.poolSize;
    for (const entry of live.filter((e) => e.state === 'preparing')) {
      if (entry.configKey !== key || extra > 0) {
        entry.abort?.abort();
        extra -= 1;
      }
    }
    this.worker.schedule(repo.name);
  }

  /** Removes every pooled worktree of a repository being unregistered. */
  async removeRepo(repo: RepoRecord): Promise<void> {
    const { pool } = this;
    pool.removing.add(repo.name);
    try {
      for (const entry of pool.byRepo.get(repo.name)?.values() ?? []) entry.abort?.abort();
      await pool.locks.run(repo.name, async () => {
        for (const entry of [...(pool.byRepo.get(repo.name)?.values() ?? [])]) await pool.discard(entry);
        await dropLeftovers(this.ctx, pool, repo.name);
      });
      pool.byRepo.delete(repo.name);
      pool.failures.delete(repo.name);
      dropSnapshots(this.ctx.config.home, repo.name);
    } finally {
      pool.removing.delete(repo.name);
    }
  }

  /**
   * "Obtain a worktree" for an agent about to launch: a ready pooled one,
   * brought to the base tip and renamed to the agent's path and branch, or
   * else a new one made cold (with copyFiles and shareDirs).
   */
  async obtain(repo: RepoRecord, agent: AgentRecord): Promise<ObtainedWorktree> {
    // A `retry --continue` or a follow-up starts from the previous agent's work (its base, for diff and land, stays the same): never pooled.
    const startPoint = agent.followUpOf?.startPoint ?? agent.retryOf?.startPoint ?? agent.baseBranch;
    const taken = startPoint === agent.baseBranch ? await this.take(repo, agent) : null;
    if (taken) return taken;
    const { git } = this.ctx;
    await git.create({ repoPath: repo.path, name: agent.branch, branch: agent.branch, baseBranch: startPoint });
    const copyStart = Date.now();
    if (repo.copyFiles.length > 0) await git.copyFiles(repo.path, agent.worktreePath, repo.copyFiles);
    if (repo.shareDirs.length > 0) {
      const { config } = this.ctx;
      await provideShareDirs({
        home: config.home, repoName: repo.name, repoPath: repo.path, worktree: agent.worktreePath, dirs: repo.shareDirs,
        mode: await shareModeFor(config, repo.path, agent.origin), layersRoot: agentLayersRoot(agentDir(config, agent.id)),
        owner: agentUserFor(config),
      });
    }
    return { pooled: false, setupDone: false, copyMs: Date.now() - copyStart };
  }

  /** How the repository's shareDirs reach its worktrees here (null without shareDirs). */
  async shareMode(repo: RepoRecord): Promise<ShareMode | null> {
    return repo.shareDirs.length > 0 ? shareModeFor(this.ctx.config, repo.path, 'local') : null;
  }

  private async take(repo: RepoRecord, agent: AgentRecord): Promise<ObtainedWorktree | null> {
    const { pool } = this;
    if (repo.poolSize <= 0 || agent.baseBranch !== repo.baseBranch || pool.removing.has(repo.name)) return null;
    const key = poolConfigKey(repo);
    // A worktree whose shared dirs are overlays works only inside the sandbox (outside, they are empty mount points).
    const overlayOk = willSandbox(this.ctx.config, agent.origin);
    const entry = [...pool.of(repo.name).values()]
      .find((e) => !e.taken && e.state === 'ready' && e.configKey === key && (e.shareMode !== 'overlay' || overlayOk));
    this.worker.schedule(repo.name);
    if (!entry) return null;
    entry.taken = true; // claimed synchronously: no other spawn and no refresh can have it now
    const { git, config, logger } = this.ctx;
    try {
      const tip = await resolveCommit(repo.path, `refs/heads/${repo.baseBranch}`);
      if (tip === null) throw new Error(`base branch ${repo.baseBranch} does not resolve`);
      let setupDone = true;
      if (entry.baseCommit !== tip) {
        // The base moved since it was prepared: bring it to the new tip; setup again only if its inputs changed.
        const from = entry.setupCommit ?? entry.baseCommit ?? tip;
        setupDone = !(repo.setup && (await setupInputsChanged(repo.path, from, tip, setupInputsOf(repo))));
        await git.refreshPooled(repo.path, entry.path, tip);
      } else {
        const state = await inspectPooled(entry.path);
        if (!state || state.head !== tip || state.branch !== entry.branch || state.trackedStatus !== entry.trackedStatus) {
          throw new Error('the pooled worktree was changed or damaged');
        }
      }
      await git.handOverPooled(repo.path, { path: entry.path, branch: entry.branch, commit: tip }, { name: agent.branch, branch: agent.branch });
      this.giveLog(entry, agent.id);
      moveLayers(poolLayersRoot(config.home, repo.name, entry.id), agentLayersRoot(agentDir(config, agent.id)));
      pool.of(repo.name).delete(entry.id);
      deleteMarker(config.home, repo.name, entry.id);
      this.worker.schedule(repo.name); // refill (it waits until no launch is under way)
      // Files copied from the main checkout are copied again: they may have changed since the pool was filled.
      const copyStart = Date.now();
      if (repo.copyFiles.length > 0) await git.copyFiles(repo.path, agent.worktreePath, repo.copyFiles);
      const copyMs = Date.now() - copyStart;
      await this.ctx.store.agents.update(agent.id, { pooled: true });
      return { pooled: true, setupDone, copyMs };
    } catch (err) {
      if (pool.of(repo.name).get(entry.id) !== entry) throw err; // handed over: the failure is the agent's
      logger.warn({ repo: repo.name, path: entry.path, err: messageOf(err) }, 'pool: pooled worktree not usable; spawning cold');
      await pool.locks.run(repo.name, () => pool.discard(entry));
      this.worker.schedule(repo.name);
      return null;
    }
  }

  /** The pooled setup's output goes at the top of the agent's log, so it reads like a cold spawn's. */
  private giveLog(entry: Entry, agentId: string): void {
    const header = `[mosaic] worktree taken from the warm pool (${entry.id})\n`;
    let text = '';
    try {
      text = readFileSync(poolLogPath(this.ctx.config.home, entry.repo, entry.id), 'utf8');
    } catch {
      // no setup output
    }
    appendFileSync(agentLogPath(this.ctx.config, agentId), header + text, { mode: 0o600 });
  }
}
