import { basename, sep } from 'node:path';
import { messageOf } from '../core/errors.js';
import { managedRoot, resolveReal, type BrokenEntry } from '../git/index.js';
import type { RepoRecord } from '../store/types.js';
import { agentDir, type AgentContext } from './context.js';
import { importSandboxWork, removeSandboxDir } from './sandbox/index.js';
import type { AgentRecord } from './types.js';

export interface WorktreeView {
  path: string;
  branch: string | null;
  repo: string;
  agentId: string | null;
  /**
   * No live (spawning or running) agent owns it, it was made by this instance
   * (or carries no instance mark) and no process works inside it: reconciliation may take it.
   */
  orphan: boolean;
  /** The instance that made it, when it says so (several instances may share a repository). */
  instance?: string | null;
  /** Held ready by the repository's warm pool (never an orphan). */
  pooled: boolean;
  /**
   * Present when git's admin entry for it is broken (its HEAD names no
   * commit, or its gitdir is unusable: what a crash mid-`worktree add`
   * leaves): why. Reconciliation salvages and prunes it when it is an orphan.
   */
  broken?: string;
}

/**
 * A half-made entry nothing of ours names, locked by git as "initializing"
 * more recently than this, may be another instance's `worktree add` in
 * flight: reported, and pruned by a later reconciliation.
 */
const FOREIGN_ADD_GRACE_MS = 60_000;

export interface ReconcileReport {
  removed: WorktreeView[];
  kept: WorktreeView[];
  errors: { path: string; message: string }[];
}

/**
 * Compares the store with `git worktree list` in every registered repository.
 * A managed worktree that no live agent owns is snapshotted (its changes
 * committed to its branch, or kept under refs/mosaic/snapshots/ when it is
 * detached) and removed; then `git worktree prune` clears
 * records of directories that are already gone.
 */
export class Reconciler {
  constructor(
    private readonly ctx: AgentContext,
    /** Worktrees a warm pool holds ready: owned, never orphans. */
    private readonly pooled: (repo: RepoRecord, path: string) => boolean = () => false,
  ) {}

  async list(): Promise<WorktreeView[]> {
    const views: WorktreeView[] = [];
    for (const repo of await this.ctx.store.repos.list()) views.push(...(await this.listRepo(repo)).map(publicView));
    return views;
  }

  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { removed: [], kept: [], errors: [] };
    for (const repo of await this.ctx.store.repos.list()) {
      let views: InternalView[];
      try {
        views = await this.listRepo(repo);
      } catch (err) {
        report.errors.push({ path: repo.path, message: messageOf(err) });
        continue;
      }
      for (const view of views) {
        if (!view.orphan) {
          report.kept.push(publicView(view));
          continue;
        }
        if (view.broken !== undefined) {
          await this.pruneBroken(repo, { ...view, broken: view.broken }, report);
          continue;
        }
        try {
          if (view.agentId !== null && view.branch !== null) await importSandboxWork(agentDir(this.ctx.config, view.agentId), repo.path, view.branch ?? '');
          await this.ctx.git.snapshot(view.path, `mosaic: snapshot of orphaned worktree ${view.path.split(sep).pop() ?? ''}`, repo.copyFiles);
          await this.ctx.git.remove(repo.path, view.path);
          if (view.agentId !== null) removeSandboxDir(agentDir(this.ctx.config, view.agentId)); // its private dirs and shared-dir layers
          report.removed.push(publicView(view));
        } catch (err) {
          report.errors.push({ path: view.path, message: messageOf(err) });
        }
      }
      try {
        await this.ctx.git.prune(repo.path);
      } catch (err) {
        report.errors.push({ path: repo.path, message: messageOf(err) });
      }
    }
    if (report.removed.length > 0 || report.errors.length > 0) {
      this.ctx.logger.info({ removed: report.removed.map((v) => v.path), errors: report.errors }, 'worktrees reconciled');
    }
    return report;
  }

  /** Saves what a broken entry's directory holds (the agent's sandboxed commits first), then removes the entry. */
  private async pruneBroken(repo: RepoRecord, view: InternalView & { broken: string }, report: ReconcileReport): Promise<void> {
    const name = view.adminName ?? '';
    const dirName = basename(view.path);
    // Its branch: an agent's is its directory's name, a pooled one's `mosaic-<dir>`.
    const branch = view.branch ?? (dirName.startsWith('agent-') ? dirName : dirName.startsWith('pool-') ? `mosaic-${dirName}` : null);
    try {
      if (view.agentId !== null && branch !== null) await importSandboxWork(agentDir(this.ctx.config, view.agentId), repo.path, branch);
      const { pruned, salvaged } = await this.ctx.git.pruneBroken(repo.path, name, branch);
      if (!pruned) {
        report.kept.push(publicView(view));
        return;
      }
      if (view.agentId !== null) removeSandboxDir(agentDir(this.ctx.config, view.agentId));
      if (salvaged !== null) this.ctx.logger.warn({ path: view.path, ref: salvaged }, 'saved what a broken worktree entry held');
      report.removed.push(publicView(view));
    } catch (err) {
      report.errors.push({ path: view.path, message: messageOf(err) });
    }
  }

  private async listRepo(repo: RepoRecord): Promise<InternalView[]> {
    const root = managedRoot(repo.path) + sep;
    const [listed, broken] = await Promise.all([this.ctx.git.list(repo.path), this.ctx.git.broken(repo.path)]);
    const entries = listed.map((entry) => ({ ...entry, path: resolveReal(entry.path) })).filter((entry) => entry.path.startsWith(root));
    const agents = await this.ctx.store.agents.list({ repo: repo.name });
    const byPath = new Map<string, AgentRecord>(agents.map((agent) => [agent.worktreePath, agent]));
    const self = this.ctx.git.owner;
    const views: InternalView[] = entries.filter((entry) => !broken.some((b) => b.path === entry.path)).map((entry) => {
      const owner = byPath.get(entry.path);
      const live = owner !== undefined && (owner.state === 'spawning' || owner.state === 'running');
      if (live) return { path: entry.path, branch: entry.branch, repo: repo.name, agentId: owner.id, orphan: false, pooled: false };
      if (this.pooled(repo, entry.path)) return { path: entry.path, branch: entry.branch, repo: repo.name, agentId: null, orphan: false, pooled: true };
      // Another instance's worktree is never ours to take, nor one a process (an agent we do not know) works in.
      const mark = this.ctx.git.inspectOwner(entry.path);
      const ours = mark.owner === null || self === undefined || mark.owner === self;
      const orphan = ours && mark.processes.length === 0;
      return {
        path: entry.path, branch: entry.branch, repo: repo.name, agentId: owner?.id ?? null, orphan, pooled: false,
        ...(mark.owner === null ? {} : { instance: mark.owner }),
      };
    });
    for (const entry of broken) {
      // Only Mosaic's own: a directory in the managed root, or none at all (its gitdir file is unusable).
      if (entry.path !== null && !entry.path.startsWith(root)) continue;
      views.push(this.brokenView(repo, entry, entry.path === null ? undefined : byPath.get(entry.path)));
    }
    return views;
  }

  private brokenView(repo: RepoRecord, entry: BrokenEntry, owner: AgentRecord | undefined): InternalView {
    const path = entry.path ?? entry.adminDir;
    const base = { path, branch: owner?.branch ?? null, repo: repo.name, agentId: owner?.id ?? null, broken: entry.reason, adminName: entry.name };
    const live = owner !== undefined && (owner.state === 'spawning' || owner.state === 'running');
    if (live) return { ...base, orphan: false, pooled: false };
    if (entry.path !== null && this.pooled(repo, entry.path)) return { ...base, agentId: null, orphan: false, pooled: true };
    const self = this.ctx.git.owner;
    const ours = entry.owner === null || self === undefined || entry.owner === self;
    const busy = entry.path !== null && this.ctx.git.inspectOwner(entry.path).processes.length > 0;
    const foreignAdd = entry.initializing && owner === undefined && entry.owner === null && entry.ageMs < FOREIGN_ADD_GRACE_MS;
    return { ...base, orphan: ours && !busy && !foreignAdd, pooled: false, ...(entry.owner === null ? {} : { instance: entry.owner }) };
  }
}

/** A view with the name of its broken admin entry, which only reconciliation needs. */
type InternalView = WorktreeView & { adminName?: string };

function publicView(view: InternalView): WorktreeView {
  const { adminName: _adminName, ...rest } = view;
  return rest;
}
