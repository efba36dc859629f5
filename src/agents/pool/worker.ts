import { messageOf } from '../../core/errors.js';
import { inspectPooled, pooledNames, resolveCommit, setupInputsChanged, worktreePathFor } from '../../git/index.js';
import type { RepoRecord } from '../../store/types.js';
import type { AgentContext } from '../context.js';
import { markerOf, newPoolId, poolConfigKey, setupInputsOf, type Entry, type PoolEntries } from './entries.js';
import { writeMarker } from './markers.js';
import { runPoolSetup } from './pool-setup.js';
import { poolLayersRoot, provideShareDirs, shareModeFor } from '../share/index.js';
import { agentUserFor } from '../sandbox/index.js';

export interface PoolWorkerOptions {
  /** Longest a refill step waits for launches under way to finish (default 15 s). */
  maxIdleWaitMs?: number;
  /** Nice value of pooled setups (default 10: spawns first). */
  setupPriority?: number;
}

/**
 * The background worker: one preparation at a time over every repository
 * marked dirty, and only while no agent is being launched. Per repository:
 * trim what no longer fits (extra, other settings), bring stale ready
 * worktrees to the base tip, then fill up to `poolSize`.
 */
export class PoolWorker {
  private readonly dirty = new Set<string>();
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly ctx: AgentContext, private readonly pool: PoolEntries, private readonly opts: PoolWorkerOptions = {}) {}

  /** Asks for a pass over `name`'s pool (no-op once stopped). */
  schedule(name: string): void {
    if (this.stopped) return;
    this.dirty.add(name);
    if (this.running) return;
    this.running = this.work().finally(() => {
      this.running = null;
      const [next] = this.dirty;
      if (next !== undefined) this.schedule(next);
    });
  }

  /** Stops taking work; resolves when the pass under way has ended (abort its setups first). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
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
    const { pool } = this;
    let repo = await this.ctx.store.repos.get(name);
    if (!repo || pool.removing.has(name)) return;
    const entries = pool.of(name);
    await pool.locks.run(name, async () => {
      if (!repo) return;
      const key = poolConfigKey(repo);
      for (const entry of [...entries.values()]) {
        if (!entry.taken && entry.state === 'ready' && entry.configKey !== key) await pool.discard(entry);
      }
      while (entries.size > repo.poolSize) {
        const extra = [...entries.values()].reverse().find((e) => !e.taken && e.state === 'ready');
        if (!extra) break;
        await pool.discard(extra);
      }
    });

    if (repo.url && repo.poolSize > 0) {
      // Shared by URL: refill at the remote's tip (a failed fetch refills at the last one known here).
      const current = repo;
      await this.ctx.remotes.sync(current).catch((err: unknown) => this.ctx.logger.warn({ repo: current.name, err: messageOf(err) }, 'pool refill: fetching the repository failed'));
    }
    const tip = await resolveCommit(repo.path, `refs/heads/${repo.baseBranch}`);
    for (const entry of [...entries.values()]) {
      if (this.stopped || tip === null) break;
      if (entry.taken || entry.state !== 'ready' || entry.baseCommit === tip) continue;
      await this.idle();
      await pool.locks.run(name, () => (repo ? this.refresh(repo, entry, tip) : Promise.resolve()));
    }

    for (;;) {
      repo = await this.ctx.store.repos.get(name);
      if (!repo || this.stopped || pool.removing.has(name) || entries.size >= repo.poolSize) return;
      const failure = pool.failures.get(name);
      if (failure && Date.now() < failure.until) return; // retried by the timer after the back-off
      await this.idle();
      const current = repo;
      await pool.locks.run(name, () => this.fillOne(current));
    }
  }

  /** Brings a ready worktree to the new tip before anyone asks for it (setup again if its inputs changed). */
  private async refresh(repo: RepoRecord, entry: Entry, tip: string): Promise<void> {
    if (entry.taken || entry.state !== 'ready' || !this.pool.of(repo.name).has(entry.id)) return;
    entry.state = 'preparing'; // not takeable while it moves
    entry.abort = new AbortController();
    try {
      const from = entry.setupCommit ?? entry.baseCommit ?? tip;
      const rerun = repo.setup !== null && (await setupInputsChanged(repo.path, from, tip, setupInputsOf(repo)));
      await this.ctx.git.refreshPooled(repo.path, entry.path, tip);
      entry.baseCommit = tip;
      if (rerun) await this.setup(repo, entry);
      await this.markReady(entry, rerun ? tip : entry.setupCommit);
    } catch (err) {
      this.ctx.logger.warn({ repo: repo.name, path: entry.path, err: messageOf(err) }, 'pool: refresh failed; rebuilding');
      await this.pool.discard(entry);
    }
  }

  private async fillOne(repo: RepoRecord): Promise<void> {
    const { git, config } = this.ctx;
    const id = newPoolId();
    const names = pooledNames(id);
    const entry: Entry = {
      id, repo: repo.name, repoPath: repo.path, path: worktreePathFor(repo.path, names.name), branch: names.branch,
      state: 'preparing', baseCommit: null, setupCommit: null, configKey: poolConfigKey(repo), trackedStatus: null,
      createdAt: Date.now(), readyAt: null, taken: false, abort: new AbortController(),
    };
    this.pool.of(repo.name).set(id, entry);
    writeMarker(config.home, markerOf(entry)); // before the worktree exists: a crash leaves nothing unowned
    try {
      const created = await git.createPooled(repo.path, id, repo.baseBranch);
      entry.path = created.path;
      entry.baseCommit = created.baseCommit;
      writeMarker(config.home, markerOf(entry));
      if (repo.copyFiles.length > 0) await git.copyFiles(repo.path, entry.path, repo.copyFiles);
      if (repo.shareDirs.length > 0) {
        entry.shareMode = await shareModeFor(config, repo.path, 'local');
        await provideShareDirs({
          home: config.home, repoName: repo.name, repoPath: repo.path, worktree: entry.path, dirs: repo.shareDirs,
          mode: entry.shareMode, layersRoot: poolLayersRoot(config.home, repo.name, id), owner: agentUserFor(config),
        });
      }
      if (repo.setup) await this.setup(repo, entry);
      await this.markReady(entry, entry.baseCommit);
      this.pool.failures.delete(repo.name);
    } catch (err) {
      const aborted = entry.abort?.signal.aborted === true;
      await this.pool.discard(entry);
      if (aborted || this.stopped) return;
      const previous = this.pool.failures.get(repo.name);
      const count = (previous?.count ?? 0) + 1;
      const delay = Math.min(60_000, 1000 * 2 ** (count - 1));
      this.pool.failures.set(repo.name, { count, until: Date.now() + delay, message: messageOf(err) });
      this.ctx.logger.warn({ repo: repo.name, err: messageOf(err), retryInMs: delay }, 'pool: could not prepare a pooled worktree');
      setTimeout(() => this.schedule(repo.name), delay).unref();
    }
  }

  private setup(repo: RepoRecord, entry: Entry): Promise<void> {
    return runPoolSetup(this.ctx, repo, entry, this.opts.setupPriority ?? 10);
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
    writeMarker(this.ctx.config.home, markerOf(entry));
  }
}
