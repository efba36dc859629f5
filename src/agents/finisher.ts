import { existsSync } from 'node:fs';
import { messageOf } from '../core/errors.js';
import { agentDir, agentLogPath, type AgentContext } from './context.js';
import { judgeExit, type Outcome } from './outcome.js';
import { importSandboxWork, removeSandboxDir } from './sandbox/index.js';
import { requestKill, type ExitRecord } from './supervisor/index.js';
import type { AgentRecord, AgentResult } from './types.js';

/**
 * Ends agents. Whatever the outcome, the worktree's uncommitted changes are
 * committed to the agent's branch before the worktree is removed, so no work
 * is ever lost; if that snapshot fails, the worktree is kept (reconciliation
 * retries) rather than removed.
 */
export class AgentFinisher {
  /** Agents being finished right now, so two callers never finish one twice. */
  private readonly inFlight = new Map<string, Promise<AgentRecord | undefined>>();

  constructor(private readonly ctx: AgentContext) {}

  finishFromExit(agentId: string, exit: ExitRecord): Promise<AgentRecord | undefined> {
    return this.once(agentId, async () => {
      const agent = await this.ctx.store.agents.get(agentId);
      if (!agent) return undefined;
      const judged = judgeExit(agent, exit, agentLogPath(this.ctx.config, agentId));
      return this.end(agent, judged.outcome, judged.exitCode, judged.result);
    });
  }

  finish(agentId: string, outcome: Outcome, exitCode: number | null = null): Promise<AgentRecord | undefined> {
    return this.once(agentId, async () => {
      const agent = await this.ctx.store.agents.get(agentId);
      if (!agent) return undefined;
      return this.end(agent, outcome, exitCode, {});
    });
  }

  /** SIGTERM to the agent's supervisor (which escalates), with a SIGKILL backstop if it is gone. */
  signalKill(agentId: string, supervisorPid: number | null, pgid: number | null): void {
    requestKill(supervisorPid, pgid, this.ctx.config.killGraceMs, agentDir(this.ctx.config, agentId));
  }

  private once(agentId: string, task: () => Promise<AgentRecord | undefined>): Promise<AgentRecord | undefined> {
    const running = this.inFlight.get(agentId);
    if (running) return running;
    const promise = task().finally(() => this.inFlight.delete(agentId));
    this.inFlight.set(agentId, promise);
    return promise;
  }

  private async end(agent: AgentRecord, outcome: Outcome, exitCode: number | null, result: AgentResult): Promise<AgentRecord | undefined> {
    if (agent.state !== 'spawning' && agent.state !== 'running') return agent;
    const saved = await this.saveWork(agent);
    const error = outcome.kind === 'failed' ? outcome.error : null;
    return this.ctx.recorder.transition(agent.id, ['spawning', 'running'], outcome.kind, {
      exitCode,
      error,
      result: { ...result, ...saved },
      pid: null,
      endedAt: Date.now(),
    });
  }

  /** Snapshot, summarize and remove the worktree; returns the result fields it learned. */
  private async saveWork(agent: AgentRecord): Promise<AgentResult> {
    const { git, store, logger } = this.ctx;
    const repo = await store.repos.get(agent.repo);
    if (!repo) return {};
    const saved: AgentResult = {};
    const dir = agentDir(this.ctx.config, agent.id);
    try {
      // A sandboxed agent committed into its private git dir: bring that home onto its branch first.
      await importSandboxWork(dir, repo.path, agent.branch);
    } catch (err) {
      logger.error({ agentId: agent.id, err: messageOf(err) }, 'importing the sandboxed commits failed; worktree kept for reconciliation');
      return saved;
    }
    if (existsSync(agent.worktreePath)) {
      try {
        saved.snapshotCommit = await git.snapshot(agent.worktreePath, `mosaic: snapshot of agent ${agent.id} (${agent.taskId})`, repo.copyFiles);
      } catch (err) {
        // Keep the worktree: removing it now could lose the agent's work.
        logger.error({ agentId: agent.id, err: messageOf(err) }, 'snapshot failed; worktree kept for reconciliation');
        saved.snapshotError = `${messageOf(err)} (worktree kept at ${agent.worktreePath})`;
        return saved;
      }
      try {
        await git.remove(repo.path, agent.worktreePath);
        removeSandboxDir(dir);
      } catch (err) {
        logger.warn({ agentId: agent.id, err: messageOf(err) }, 'worktree removal failed; reconciliation will retry');
      }
    }
    try {
      const summary = await git.summary(repo.path, agent.baseBranch, agent.branch);
      saved.commitsAhead = summary.commitsAhead;
      saved.filesChanged = summary.filesChanged;
    } catch {
      // The branch may not exist when the worktree was never created.
    }
    return saved;
  }
}
