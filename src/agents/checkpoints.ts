import { existsSync } from 'node:fs';
import { messageOf } from '../core/errors.js';
import { commitCheckpoint } from '../git/index.js';
import type { AgentContext } from './context.js';
import type { AgentRecord } from './types.js';

/**
 * Checkpoints (issue 21): every `MOSAIC_CHECKPOINT_S` a running agent of a
 * repository shared by URL has its worktree's state — its commits and its
 * uncommitted changes — pushed to the remote's branch of the agent, so
 * losing its node loses at most the work since then. The state is read
 * through the safe capture (a private copy of the index; the worktree, its
 * index and its branch are never touched), committed in the object database
 * only, and pushed from there: the agent sees nothing.
 */
export class Checkpointer {
  private timer: NodeJS.Timeout | null = null;
  /** The last commit pushed for each agent, and when it was tried. */
  private readonly last = new Map<string, { at: number; commit: string | null }>();
  private busy = false;

  constructor(private readonly ctx: AgentContext, private readonly running: () => AgentRecord[]) {}

  start(): void {
    const everyMs = this.ctx.config.checkpointS * 1000;
    // Looked at a few times per period, so each agent's checkpoint comes within a fraction of it.
    this.timer = setInterval(() => void this.pass(), Math.max(250, Math.min(everyMs / 4, 30_000)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async pass(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const everyMs = this.ctx.config.checkpointS * 1000;
      const now = Date.now();
      const live = new Set<string>();
      for (const agent of this.running()) {
        live.add(agent.id);
        const since = this.last.get(agent.id)?.at ?? agent.startedAt ?? now;
        if (now - since < everyMs) continue;
        await this.checkpoint(agent);
      }
      for (const id of [...this.last.keys()]) if (!live.has(id)) this.last.delete(id);
    } finally {
      this.busy = false;
    }
  }

  /** One checkpoint of a running agent now; the commit pushed (null: nothing to push, or it failed). */
  async checkpoint(agent: AgentRecord): Promise<string | null> {
    const previous = this.last.get(agent.id)?.commit ?? null;
    this.last.set(agent.id, { at: Date.now(), commit: previous });
    try {
      const repo = await this.ctx.store.repos.get(agent.repo);
      if (!repo?.url || !existsSync(agent.worktreePath)) return null;
      const captured = await this.ctx.git.capture(repo.path, agent.worktreePath, repo.copyFiles);
      if (captured.head === null) return null;
      const commit = captured.dirty
        ? await commitCheckpoint(repo.path, captured.tree, captured.head, `mosaic: checkpoint of agent ${agent.id} (${agent.taskId})`)
        : captured.head;
      if (commit === previous) return null;
      await this.ctx.remotes.pushBranch(repo, agent.branch, { checkpoint: commit });
      this.last.set(agent.id, { at: Date.now(), commit });
      this.ctx.logger.debug({ agentId: agent.id, commit }, 'checkpoint pushed to the remote');
      return commit;
    } catch (err) {
      this.ctx.logger.warn({ agentId: agent.id, err: messageOf(err) }, 'checkpoint failed; the next one tries again');
      return null;
    }
  }
}
