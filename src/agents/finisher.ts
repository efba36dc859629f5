import { existsSync } from 'node:fs';
import { messageOf } from '../core/errors.js';
import { branchExists } from '../git/index.js';
import { agentDir, agentLogPath, type AgentContext } from './context.js';
import { judgeExit, type Outcome } from './outcome.js';
import { instancePrices } from './runtimes/index.js';
import { explainAgentError } from './runtimes/not-found.js';
import { importSandboxWork, removeSandboxDir, sandboxGitDir } from './sandbox/index.js';
import { requestKill, type ExitRecord } from './supervisor/index.js';
import type { AgentRecord, AgentResult, AgentTimings } from './types.js';

/**
 * Ends agents. Whatever the outcome, a sandboxed agent's commits are brought
 * onto its branch and the worktree's uncommitted changes committed there
 * before the worktree is removed, so no work is ever lost. If either step
 * fails, the worktree and the private git dir are kept (reconciliation
 * retries) and the agent ends `failed/work_not_saved`, never `completed`.
 */
export class AgentFinisher {
  /** Agents being finished right now, so two callers never finish one twice. */
  private readonly inFlight = new Map<string, Promise<AgentRecord | undefined>>();

  constructor(private readonly ctx: AgentContext) {}

  finishFromExit(agentId: string, exit: ExitRecord): Promise<AgentRecord | undefined> {
    return this.once(agentId, async () => {
      const agent = await this.ctx.store.agents.get(agentId);
      if (!agent) return undefined;
      const judged = judgeExit(agent, exit, agentLogPath(this.ctx.config, agentId), instancePrices(this.ctx.config.home));
      return this.end(agent, judged.outcome, judged.exitCode, judged.result, exit);
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
    requestKill({ agentId, agentDir: agentDir(this.ctx.config, agentId), supervisorPid, pgid, graceMs: this.ctx.config.killGraceMs });
  }

  private once(agentId: string, task: () => Promise<AgentRecord | undefined>): Promise<AgentRecord | undefined> {
    const running = this.inFlight.get(agentId);
    if (running) return running;
    const promise = task().finally(() => this.inFlight.delete(agentId));
    this.inFlight.set(agentId, promise);
    return promise;
  }

  private async end(agent: AgentRecord, outcome: Outcome, exitCode: number | null, result: AgentResult, exit: ExitRecord | null = null): Promise<AgentRecord | undefined> {
    if (agent.state !== 'spawning' && agent.state !== 'running') return agent;
    const timings = launchAndRun(agent, exit, Date.now());
    const { saved, notSaved } = await this.saveWork(agent, timings);
    if (notSaved === null) await this.pushToRemote(agent);
    // Work that did not reach the branch overrides any outcome: the agent must never look done (nothing is lost silently).
    const ended: Outcome = notSaved === null ? outcome : { kind: 'failed', error: workNotSaved(agent, outcome, notSaved) };
    // A killed agent keeps the reason its kill recorded (budget_exceeded); otherwise it has no error.
    const error = ended.kind === 'failed' ? explainAgentError(ended.error, agent.runtime) : ended.kind === 'killed' ? agent.error : null;
    return this.ctx.recorder.transition(agent.id, ['spawning', 'running'], ended.kind, {
      exitCode,
      error,
      result: { ...result, ...saved },
      pid: null,
      timings,
      endedAt: Date.now(),
    });
  }

  /**
   * Shared by URL: the branch (snapshot included) goes to the remote before
   * the agent is recorded ended, so every node finds it there. A failed push
   * is logged and the branch stays here (a later land or diff from this
   * node still works; other nodes see its last checkpoint).
   */
  private async pushToRemote(agent: AgentRecord): Promise<void> {
    const repo = await this.ctx.store.repos.get(agent.repo).catch(() => undefined);
    if (!repo?.url) return;
    try {
      if (await branchExists(repo.path, agent.branch)) await this.ctx.remotes.pushBranch(repo, agent.branch);
    } catch (err) {
      this.ctx.logger.warn({ agentId: agent.id, repo: repo.name, err: messageOf(err) }, 'pushing the agent\'s branch to the remote failed; it is kept here');
    }
  }

  /**
   * Import, snapshot, summarize and remove the worktree. Returns the result
   * fields it learned, and why the work could not be saved (null when it was):
   * then the worktree and the private git dir are kept, never removed.
   */
  private async saveWork(agent: AgentRecord, timings: AgentTimings): Promise<{ saved: AgentResult; notSaved: NotSaved | null }> {
    const { git, store, logger } = this.ctx;
    let mark = Date.now();
    const lap = (): number => {
      const now = Date.now();
      const ms = now - mark;
      mark = now;
      return ms;
    };
    const saved: AgentResult = {};
    const repo = await store.repos.get(agent.repo);
    if (!repo) return { saved, notSaved: null };
    const dir = agentDir(this.ctx.config, agent.id);
    const keep = (step: NotSaved['step'], err: unknown): { saved: AgentResult; notSaved: NotSaved } => {
      const gitDir = sandboxGitDir(dir);
      saved.workKept = { worktree: agent.worktreePath, gitDir, recover: recoverCommand(repo.path, agent.branch, gitDir) };
      return { saved, notSaved: { step, reason: messageOf(err), repoPath: repo.path, gitDir } };
    };
    try {
      // A sandboxed agent committed into its private git dir: bring that home onto its branch first.
      await importSandboxWork(dir, repo.path, agent.branch);
      timings.import = lap();
    } catch (err) {
      logger.error({ agentId: agent.id, err: messageOf(err) }, 'importing the sandboxed commits failed; worktree and private git dir kept');
      return keep('import', err);
    }
    const exists = existsSync(agent.worktreePath);
    if (exists) {
      try {
        saved.snapshotCommit = await git.snapshot(agent.worktreePath, `mosaic: snapshot of agent ${agent.id} (${agent.taskId})`, repo.copyFiles);
        timings.snapshot = lap();
      } catch (err) {
        // Keep the worktree: removing it now could lose the agent's work.
        logger.error({ agentId: agent.id, err: messageOf(err) }, 'snapshot failed; worktree kept for reconciliation');
        saved.snapshotError = `${messageOf(err)} (worktree kept at ${agent.worktreePath})`;
        return keep('snapshot', err);
      }
    }
    // The branch is final now: its summary needs only refs, so it runs while the worktree goes.
    const summarized = git.summary(repo.path, agent.baseBranch, agent.branch).then((summary) => {
      saved.commitsAhead = summary.commitsAhead;
      saved.filesChanged = summary.filesChanged;
    }, () => undefined); // the branch may not exist when the worktree was never created
    if (exists) {
      try {
        await git.remove(repo.path, agent.worktreePath);
        removeSandboxDir(dir);
      } catch (err) {
        logger.warn({ agentId: agent.id, err: messageOf(err) }, 'worktree removal failed; reconciliation will retry');
      }
    }
    await summarized;
    timings.snapshot ??= 0;
    timings.remove = lap();
    return { saved, notSaved: null };
  }
}

/**
 * The timings an ending agent had so far, with `launch` and `run` added when
 * it was launched: launch from the end of its setup (the sum of the phases
 * before, counted from createdAt) to its first byte of output (or to when it
 * was recorded running, if it printed nothing), run from there to `now`,
 * when its end is being handled.
 */
function launchAndRun(agent: AgentRecord, exit: ExitRecord | null, now: number): AgentTimings {
  const timings: AgentTimings = { ...(agent.timings ?? {}) };
  if (agent.startedAt === null || timings.setup === undefined) return timings;
  const before = (['queued', 'worktree', 'pool', 'copy', 'sandbox', 'setup'] as const).reduce((sum, phase) => sum + (timings[phase] ?? 0), 0);
  const launchStart = agent.createdAt + before;
  const first = exit?.firstOutputAt ?? null;
  const launchEnd = Math.min(now, Math.max(launchStart, first ?? agent.startedAt));
  timings.launch = launchEnd - launchStart;
  timings.run = Math.max(0, now - launchEnd);
  return timings;
}

interface NotSaved {
  step: 'import' | 'snapshot';
  reason: string;
  repoPath: string;
  gitDir: string | null;
}

/** The command that brings a kept private git dir's commits onto a branch of their own, for a person to run. */
function recoverCommand(repoPath: string, branch: string, gitDir: string | null): string {
  if (gitDir === null) return `git -C ${shellQuote(repoPath)} log ${shellQuote(branch)} (the uncommitted work is in the worktree)`;
  // safe.directory: the private git dir may belong to the user agents run as.
  return `git -C ${shellQuote(repoPath)} -c safe.directory='*' fetch --no-tags ${shellQuote(gitDir)} +HEAD:refs/heads/${branch}-recovered`;
}

const shellQuote = (s: string): string => (/^[A-Za-z0-9_./@:+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

function workNotSaved(agent: AgentRecord, outcome: Outcome, notSaved: NotSaved): { code: string; message: string } {
  const what = notSaved.step === 'import' ? 'its commits could not be brought onto its branch' : 'its uncommitted changes could not be committed';
  const where = notSaved.gitDir === null
    ? `the work is still in ${agent.worktreePath} (kept)`
    : `the work is still in ${agent.worktreePath} and its private git dir ${notSaved.gitDir} (both kept)`;
  const before = outcome.kind === 'failed' ? ` The agent itself had failed: ${outcome.error.code}: ${outcome.error.message}.`
    : outcome.kind === 'killed' ? ' The agent had been killed.' : '';
  return {
    code: 'work_not_saved',
    message: `${agent.branch}: ${what} (${notSaved.reason}); ${where}. Recover: ${recoverCommand(notSaved.repoPath, agent.branch, notSaved.gitDir)}.${before}`,
  };
}
