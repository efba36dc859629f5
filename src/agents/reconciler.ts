import { sep } from 'node:path';
import { messageOf } from '../core/errors.js';
import { managedRoot } from '../git/index.js';
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
}

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
    for (const repo of await this.ctx.store.repos.list()) views.push(...(await this.listRepo(repo)));
    return views;
  }

  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { removed: [], kept: [], errors: [] };
    for (const repo of await this.ctx.store.repos.list()) {
      let views: WorktreeView[];
      try {
        views = await this.listRepo(repo);
      } catch (err) {
        report.errors.push({ path: repo.path, message: messageOf(err) });
        continue;
      }
      for (const view of views) {
        if (!view.orphan) {
          report.kept.push(view);
          continue;
        }
        try {
          if (view.agentId !== null && view.branch !== null) await importSandboxWork(agentDir(this.ctx.config, view.agentId), repo.path, view.branch ?? '');
          await this.ctx.git.snapshot(view.path, `mosaic: snapshot of orphaned worktree ${view.path.split(sep).pop() ?? ''}`, repo.copyFiles);
          await this.ctx.git.remove(repo.path, view.path);
          if (view.agentId !== null) removeSandboxDir(agentDir(this.ctx.config, view.agentId)); // its private dirs and shared-dir layers
          report.removed.push(view);
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

  private async listRepo(repo: RepoRecord): Promise<WorktreeView[]> {
    const root = managedRoot(repo.path) + sep;
    const entries = (await this.ctx.git.list(repo.path)).filter((entry) => entry.path.startsWith(root));
    const agents = await this.ctx.store.agents.list({ repo: repo.name });
    const byPath = new Map<string, AgentRecord>(agents.map((agent) => [agent.worktreePath, agent]));
    const self = this.ctx.git.owner;
    return entries.map((entry) => {
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
  }
}
