import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { messageOf } from '../../core/errors.js';
import { base32 } from '../../core/ids.js';
import { KeyedMutex } from '../../core/mutex.js';
import {
  DEFAULT_SETUP_INPUTS, inspectPooled, listPooledWorktrees, poolIdOfPath, pooledNames, resolveCommit, setupInputsChanged,
  worktreePathFor,
} from '../../git/index.js';
import type { RepoRecord } from '../../store/types.js';
import { agentLogPath, type AgentContext } from '../context.js';
import { agentEnvironment } from '../runtimes/index.js';
import { runSetup } from '../setup.js';
import type { AgentRecord } from '../types.js';
import {
  deleteMarker, markerExists, poolLogPath, readMarkers, repoPoolDir, repoPoolDirs, setupBoxPath, setupPidPath, writeMarker, type PoolMarker,
} from './markers.js';
import { provideShareDirs } from './share.js';
import { sandboxForAgent } from '../sandbox/index.js';
import { readPidFile, signalGroup } from '../supervisor/index.js';

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
}

export interface WarmPoolOptions {
  /** How often ready worktrees are checked against the base tip (default 5 s). */
  checkEveryMs?: number;
  /** Longest a refill step waits for launches under way to finish (default 15 s). */
  maxIdleWaitMs?: number;
  /** Nice value of pooled setups (default 10: spawns first). */
  setupPriority?: number;
}

interface Entry extends PoolMarker {
  /** Claimed by a spawn: no longer the pool's to refresh, count as ready or remove. */
  taken: boolean;
  abort: AbortController | null;
}

interface Failure {
  count: number;
  until: number;
  message: string;
}

function newPoolId(): string {
  return base32(randomBytes(8)).slice(0, 12);
}

/** Digest of the settings a pooled worktree is prepared with: when it changes, the worktree is rebuilt. */
export function poolConfigKey(repo: RepoRecord): string {
  return createHash('sha256')
    .update(JSON.stringify([repo.path, repo.baseBranch, repo.setup, repo.copyFiles, repo.shareDirs]))
    .digest('hex');
}

function setupInputsOf(repo: RepoRecord): readonly string[] {
  return repo.setupInputs ?? DEFAULT_SETUP_INPUTS;
}

/**
 * Keeps `poolSize` worktrees per repository ready at the base tip (copyFiles,
 * shareDirs and setup done), hands one to a spawn by renaming it, and refills
 * in the background, one preparation at a time and only when no launch is
 * under way, with its setup niced: spawns always go first.
 */
export class WarmPool {
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, Failure>();
  private readonly locks = new KeyedMutex();
  private readonly removing = new Set<string>();
  private worker: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly ctx: AgentContext, private readonly opts: WarmPoolOptions = {}) {}

  /** Re-checks what a previous server left (refreshing or rebuilding it), then fills every pool in the background. */
  async start(): Promise<void> {
    const repos = await this.ctx.store.repos.list();
    const registered = new Set(repos.map((r) => r.name));
    for (const name of repoPoolDirs(this.ctx.config.home)) {
      if (!registered.has(name)) await this.dropLeftovers(name);
    }
    for (const repo of repos) {
      try {
        await this.locks.run(repo.name, () => this.restore(repo));
      } catch (err) {
        this.ctx.logger.warn({ repo: repo.name, err: messageOf(err) }, 'pool: could not re-check pooled worktrees');
      }
      this.schedule(repo.name);
    }
    const every = this.opts.checkEveryMs ?? 5000;
    this.timer = setInterval(() => {
      for (const name of this.entries.keys()) this.schedule(name);
    }, every);
    this.timer.unref();
  }

  /** Stops refilling; a setup under way is ended (its worktree is rebuilt at the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const entries of this.entries.values()) for (const entry of entries.values()) entry.abort?.abort();
    await this.worker;
  }

  status(repo: RepoRecord): PoolStatus {
    const entries = [...(this.entries.get(repo.name)?.values() ?? [])].filter((e) => !e.taken);
    const failure = this.failures.get(repo.name);
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
    this.failures.delete(repo.name);
    const key = poolConfigKey(repo);
    const live = [...(this.entries.get(repo.name)?.values() ?? [])].filter((e) => !e.taken);
    // Preparations that can no longer be used stop now rather than after a long setup.
    let extra = live.length - repo.poolSize;
    for (const entry of live.filter((e) => e.state === 'preparing')) {
      if (entry.configKey !== key || extra > 0) {
        entry.abort?.abort();
        extra -= 1;
      }
    }
    this.schedule(repo.name);
  }

  /** Removes every pooled worktree of a repository being unregistered. */
  async removeRepo(repo: RepoRecord): Promise<void> {
    this.removing.add(repo.name);
    try {
      for (const entry of this.entries.get(repo.name)?.values() ?? []) entry.abort?.abort();
      await this.locks.run(repo.name, async () => {
        for (const entry of [...(this.entries.get(repo.name)?.values() ?? [])]) await this.discard(entry);
        await this.dropLeftovers(repo.name);
      });
      this.entries.delete(repo.name);
      this.failures.delete(repo.name);
    } finally {
      this.removing.delete(repo.name);
    }
  }

  /**
   * "Obtain a worktree" for an agent about to launch: a ready pooled one,
   * brought to the base tip and renamed to the agent's path and branch, or
   * else a new one made cold (with copyFiles and shareDirs).
   */
  async obtain(repo: RepoRecord, agent: AgentRecord): Promise<ObtainedWorktree> {
    // A `retry --continue` starts from the previous agent's work (its base, for diff and land, stays the same): never pooled.
    const startPoint = agent.retryOf?.startPoint ?? agent.baseBranch;
    const taken = startPoint === agent.baseBranch ? await this.take(repo, agent) : null;
    if (taken) return taken;
    const { git } = this.ctx;
    await git.create({ repoPath: repo.path, name: agent.branch, branch: agent.branch, baseBranch: startPoint });
    if (repo.copyFiles.length > 0) await git.copyFiles(repo.path, agent.worktreePath, repo.copyFiles);
    await provideShareDirs(repo.path, agent.worktreePath, repo.shareDirs);
    return { pooled: false, setupDone: false };
  }

  private repoEntries(name: string): Map<string, Entry> {
    let entries = this.entries.get(name);
    if (!entries) {
      entries = new Map();
      this.entries.set(name, entries);
    }
    return entries;
  }

  private async take(repo: RepoRecord, agent: AgentRecord): Promise<ObtainedWorktree | null> {
    if (repo.poolSize <= 0 || agent.baseBranch !== repo.baseBranch || this.removing.has(repo.name)) return null;
    const key = poolConfigKey(repo);
    const entry = [...this.repoEntries(repo.name).values()].find((e) => !e.taken && e.state === 'ready' && e.configKey === key);
    this.schedule(repo.name);
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
      await git.handOverPooled(repo.path, entry, { name: agent.branch, branch: agent.branch });
      this.giveLog(entry, agent.id);
      this.repoEntries(repo.name).delete(entry.id);
      deleteMarker(config.home, repo.name, entry.id);
      this.schedule(repo.name); // refill (it waits until no launch is under way)
      // Files copied from the main checkout are copied again: they may have changed since the pool was filled.
      if (repo.copyFiles.length > 0) await git.copyFiles(repo.path, agent.worktreePath, repo.copyFiles);
      await this.ctx.store.agents.update(agent.id, { pooled: true });
      return { pooled: true, setupDone };
    } catch (err) {
      if (this.repoEntries(repo.name).get(entry.id) !== entry) throw err; // handed over: the failure is the agent's
      logger.warn({ repo: repo.name, path: entry.path, err: messageOf(err) }, 'pool: pooled worktree not usable; spawning cold');
      await this.locks.run(repo.name, () => this.discard(entry));
      this.schedule(repo.name);
      return null;
    }
  }

  /** The pooled setup's output goes at the top of the agent's log, so it reads like a cold spawn's. */
  private giveLog(entry: Entry, agentId: string): void {
    try {
      const text = readFileSync(poolLogPath(this.ctx.config.home, entry.repo, entry.id), 'utf8');
      appendFileSync(agentLogPath(this.ctx.config, agentId), `[mosaic] worktree taken from the warm pool (${entry.id})\n${text}`, { mode: 0o600 });
    } catch {
      appendFileSync(agentLogPath(this.ctx.config, agentId), `[mosaic] worktree taken from the warm pool (${entry.id})\n`, { mode: 0o600 });
    }
  }

  private schedule(name: string): void {
    if (this.stopped) return;
    this.dirty.add(name);
    if (this.worker) return;
    this.worker = this.work().finally(() => {
      this.worker = null;
      const [next] = this.dirty;
      if (next !== undefined) this.schedule(next);
    });
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const [name] = this.dirty;
      if (name === undefined) return;
      this.dirty.delete(name);
      try {
        await this.maintain(name);
      } catch (err) {
        this.ctx.logger.warn({ repo: name, err: messageOf(err) }, 'pool: maintenance failed');
      }
    }
  }

  /** Waits while agents are being launched: a refill must never slow a spawn down. */
  private async idle(): Promise<void> {
    const deadline = Date.now() + (this.opts.maxIdleWaitMs ?? 15_000);
    while (!this.stopped && Date.now() < deadline && (await this.ctx.store.agents.countByState('spawning')) > 0) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One pass over a repository's pool: drop what no longer fits, refresh stale ones, fill up. */
  private async maintain(name: string): Promise<void> {
    let repo = await this.ctx.store.repos.get(name);
    if (!repo || this.removing.has(name)) return;
    const entries = this.repoEntries(name);
    await this.locks.run(name, async () => {
      if (!repo) return;
      const key = poolConfigKey(repo);
      for (const entry of [...entries.values()]) {
        if (!entry.taken && entry.state === 'ready' && entry.configKey !== key) await this.discard(entry);
      }
      while (entries.size > repo.poolSize) {
        const extra = [...entries.values()].reverse().find((e) => !e.taken && e.state === 'ready');
        if (!extra) break;
        await this.discard(extra);
      }
    });

    const tip = await resolveCommit(repo.path, `refs/heads/${repo.baseBranch}`);
    for (const entry of [...entries.values()]) {
      if (this.stopped || tip === null) break;
      if (entry.taken || entry.state !== 'ready' || entry.baseCommit === tip) continue;
      await this.idle();
      await this.locks.run(name, () => (repo ? this.refresh(repo, entry, tip) : Promise.resolve()));
    }

    for (;;) {
      repo = await this.ctx.store.repos.get(name);
      if (!repo || this.stopped || this.removing.has(name) || entries.size >= repo.poolSize) return;
      const failure = this.failures.get(name);
      if (failure && Date.now() < failure.until) return; // retried by the timer after the back-off
      await this.idle();
      const current = repo;
      await this.locks.run(name, () => this.fillOne(current));
    }
  }

  /** Brings a ready worktree to the new tip before anyone asks for it (setup again if its inputs changed). */
  private async refresh(repo: RepoRecord, entry: Entry, tip: string): Promise<void> {
    if (entry.taken || entry.state !== 'ready' || !this.repoEntries(repo.name).has(entry.id)) return;
    entry.state = 'preparing'; // not takeable while it moves
    entry.abort = new AbortController();
    try {
      const from = entry.setupCommit ?? entry.baseCommit ?? tip;
      const rerun = repo.setup !== null && (await setupInputsChanged(repo.path, from, tip, setupInputsOf(repo)));
      await this.ctx.git.refreshPooled(repo.path, entry.path, tip);
      entry.baseCommit = tip;
      if (rerun) await this.runPoolSetup(repo, entry);
      await this.markReady(entry, rerun ? tip : entry.setupCommit);
    } catch (err) {
      this.ctx.logger.warn({ repo: repo.name, path: entry.path, err: messageOf(err) }, 'pool: refresh failed; rebuilding');
      await this.discard(entry);
    }
  }

  private async fillOne(repo: RepoRecord): Promise<void> {
    const { git, config } = this.ctx;
    const id = newPoolId();
    const entry: Entry = {
      id, repo: repo.name, repoPath: repo.path, path: '', branch: '', state: 'preparing', baseCommit: null, setupCommit: null,
      configKey: poolConfigKey(repo), trackedStatus: null, createdAt: Date.now(), readyAt: null,
      taken: false, abort: new AbortController(),
    };
    const names = pooledNames(id);
    entry.path = worktreePathFor(repo.path, names.name);
    entry.branch = names.branch;
    this.repoEntries(repo.name).set(id, entry);
    writeMarker(config.home, this.markerOf(entry)); // before the worktree exists: a crash leaves nothing unowned
    try {
      const created = await git.createPooled(repo.path, id, repo.baseBranch);
      entry.path = created.path;
      entry.baseCommit = created.baseCommit;
      writeMarker(config.home, this.markerOf(entry));
      if (repo.copyFiles.length > 0) await git.copyFiles(repo.path, entry.path, repo.copyFiles);
      await provideShareDirs(repo.path, entry.path, repo.shareDirs);
      if (repo.setup) await this.runPoolSetup(repo, entry);
      await this.markReady(entry, entry.baseCommit);
      this.failures.delete(repo.name);
    } catch (err) {
      const aborted = entry.abort?.signal.aborted === true;
      await this.discard(entry);
      if (aborted || this.stopped) return;
      const previous = this.failures.get(repo.name);
      const count = (previous?.count ?? 0) + 1;
      const delay = Math.min(60_000, 1000 * 2 ** (count - 1));
      this.failures.set(repo.name, { count, until: Date.now() + delay, message: messageOf(err) });
      this.ctx.logger.warn({ repo: repo.name, err: messageOf(err), retryInMs: delay }, 'pool: could not prepare a pooled worktree');
      setTimeout(() => this.schedule(repo.name), delay).unref();
    }
  }

  /**
   * Runs the repository's setup in a pooled worktree under the same rules as
   * an agent's setup: the same scrubbed environment and, where agents are
   * sandboxed, the same sandbox (its private directory lives beside the
   * marker and goes once the setup is done; a setup's commits, which would
   * land in the private git dir, are not kept: a pooled worktree has no work).
   */
  private async runPoolSetup(repo: RepoRecord, entry: Entry): Promise<void> {
    if (!repo.setup) return;
    const { config, logger } = this.ctx;
    const env = agentEnvironment(process.env, {
      agentId: `pool-${entry.id}`, taskId: 'pool', prompt: 'pool', port: 0, type: 'worker', userEnv: {}, forward: config.forwardEnv,
    });
    const boxParent = setupBoxPath(config.home, repo.name, entry.id);
    const sandbox = await sandboxForAgent({
      config, origin: 'local', agentDir: boxParent, worktree: entry.path,
      repoPaths: (await this.ctx.store.repos.list()).map((r) => r.path),
      network: repo.network === 'none' ? 'none' : 'host',
      programs: repo.setup[0] ? [repo.setup[0]] : [], runtimeProgram: repo.setup[0], path: env.PATH, claudeLogin: false,
      onUnsandboxed: (reason) => logger.warn({ repo: repo.name, reason }, 'pool: setup runs unsandboxed (MOSAIC_SANDBOX=auto)'),
    });
    if (sandbox) env.TMPDIR = '/tmp';
    try {
      const result = await runSetup(sandbox ? sandbox.wrap(repo.setup) : repo.setup, entry.path, env, poolLogPath(config.home, repo.name, entry.id), {
        ...(entry.abort ? { signal: entry.abort.signal } : {}),
        pidFile: setupPidPath(config.home, repo.name, entry.id),
        priority: this.opts.setupPriority ?? 10,
      });
      if (!result.ok) throw new Error(`setup failed: ${result.message}`);
    } finally {
      rmSync(boxParent, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  private async markReady(entry: Entry, setupCommit: string | null): Promise<void> {
    if (entry.abort?.signal.aborted) throw new Error('stopped');
    const state = await inspectPooled(entry.path);
    if (!state) throw new Error('the pooled worktree vanished while it was prepared');
    entry.setupCommit = setupCommit;
    entry.trackedStatus = state.trackedStatus;
    entry.state = 'ready';
    entry.readyAt = Date.now();
    entry.abort = null;
    writeMarker(this.ctx.config.home, this.markerOf(entry));
  }

  /** Removes a pooled worktree and forgets it; the marker goes only once the worktree is gone. */
  private async discard(entry: Entry): Promise<void> {
    entry.abort?.abort();
    const { git, config, logger } = this.ctx;
    try {
      if (entry.path !== '') await git.removePooled(entry.repoPath, entry.path, entry.branch);
      deleteMarker(config.home, entry.repo, entry.id);
    } catch (err) {
      logger.warn({ repo: entry.repo, path: entry.path, err: messageOf(err) }, 'pool: could not remove a pooled worktree');
    }
    this.entries.get(entry.repo)?.delete(entry.id);
  }

  /**
   * At start: a marker's worktree is kept when it is intact (registered, on
   * its branch, at the recorded commit, tracked files as they were, made with
   * the current settings) and removed otherwise, to be rebuilt by the fill.
   */
  private async restore(repo: RepoRecord): Promise<void> {
    const { config } = this.ctx;
    const registered = new Map((await listPooledWorktrees(repo.path)).map((w) => [w.id, w]));
    const key = poolConfigKey(repo);
    for (const marker of readMarkers(config.home, repo.name)) {
      const entry: Entry = { ...marker, taken: false, abort: null };
      const pid = readPidFile(setupPidPath(config.home, repo.name, marker.id));
      if (pid !== null) signalGroup(pid, 'SIGKILL'); // a setup the previous server left running
      const listed = registered.get(marker.id);
      const usable = listed !== undefined && !listed.prunable && listed.path === marker.path && marker.repoPath === repo.path;
      const state = usable ? await inspectPooled(marker.path) : null;
      const intact = marker.state === 'ready' && state !== null && marker.configKey === key && state.branch === marker.branch
        && state.head === marker.baseCommit && state.trackedStatus === marker.trackedStatus;
      if (intact) {
        this.repoEntries(repo.name).set(entry.id, entry);
      } else {
        this.ctx.logger.info({ repo: repo.name, path: marker.path }, 'pool: pooled worktree damaged or unfinished; rebuilding');
        await this.discard(entry);
      }
    }
  }

  /** Pooled worktrees of a repository that is no longer registered (removed while the server was down). */
  private async dropLeftovers(name: string): Promise<void> {
    const { config } = this.ctx;
    for (const marker of readMarkers(config.home, name)) {
      if (this.entries.get(name)?.has(marker.id)) continue;
      await this.discard({ ...marker, taken: false, abort: null });
    }
    try {
      rmdirSync(repoPoolDir(config.home, name)); // only when empty: a marker whose worktree could not be removed stays
    } catch {
      // not empty or already gone
    }
  }

  private markerOf(entry: Entry): PoolMarker {
    const { taken: _taken, abort: _abort, ...marker } = entry;
    return marker;
  }
}
