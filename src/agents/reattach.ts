import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../core/errors.js';
import { agentDir, type AgentContext } from './context.js';
import type { AgentFinisher } from './finisher.js';
import { SETUP_PID_FILE } from './setup.js';
import { CHILD_PID_FILE, isSupervisorAlive, readExitRecord, readPidFile, recordedGroup, signalSupervisor, SUPERVISOR_PID_FILE } from './supervisor/index.js';
import type { AgentRecord } from './types.js';

/** How long a supervisor found alive but without its agent's pid gets to report one. */
const SUPERVISOR_REPORT_MS = 10_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Mounts again the layered worktrees a reboot unmounted (git/layered.ts),
 * before anything reads a worktree: until then each is an empty directory.
 */
export async function remountWorktrees(ctx: AgentContext): Promise<void> {
  for (const repo of await ctx.store.repos.list()) {
    const failed = await ctx.git.remountLayered(repo.path).catch(() => []);
    if (failed.length > 0) ctx.logger.warn({ repo: repo.name, worktrees: failed }, 'layered worktrees could not be mounted again');
  }
}

/**
 * At start-up, agents left `spawning` were mid-launch when the previous
 * server stopped. One whose supervisor did start is running: record it so
 * the monitor follows it. One whose agent never started is queued again
 * (its half-made worktree cleaned), so a crash costs a relaunch, not the
 * agent — and, since the agent never started, it cannot run twice.
 */
export async function reattachSpawning(ctx: AgentContext, finisher: AgentFinisher): Promise<void> {
  const node = ctx.placement?.node;
  for (const agent of await ctx.store.agents.list({ state: 'spawning', ...(node === undefined ? {} : { node }) })) {
    const dir = agentDir(ctx.config, agent.id);
    const supervisorPid = readPidFile(join(dir, SUPERVISOR_PID_FILE));
    let pgid = readPidFile(join(dir, CHILD_PID_FILE));
    let exit = readExitRecord(dir);
    // A supervisor that is starting its agent right now: let it say how that went before deciding.
    const deadline = Date.now() + SUPERVISOR_REPORT_MS;
    while (!exit && pgid === null && supervisorPid !== null && isSupervisorAlive(supervisorPid, dir) && Date.now() < deadline) {
      await sleep(50);
      pgid = readPidFile(join(dir, CHILD_PID_FILE));
      exit = readExitRecord(dir);
    }
    if (exit) {
      await finisher.finishFromExit(agent.id, exit);
    } else if (supervisorPid !== null && pgid !== null && isSupervisorAlive(supervisorPid, dir)) {
      const running = await ctx.recorder.transition(agent.id, ['spawning'], 'running', { pid: supervisorPid, pgid, startedAt: Date.now() });
      if (running?.killRequested) finisher.signalKill(agent.id, supervisorPid, pgid);
    } else {
      // Whatever the previous server left running for this agent (its setup, a half-started agent) ends first:
      // only what its pid files prove is still the agent's (identity or marker), never a number alone.
      for (const file of [CHILD_PID_FILE, SETUP_PID_FILE]) recordedGroup(join(dir, file), agent.id)?.signal('SIGKILL');
      if (supervisorPid !== null && isSupervisorAlive(supervisorPid, dir)) signalSupervisor(dir, supervisorPid, 'SIGKILL');
      await requeueOrEnd(ctx, finisher, agent, pgid !== null);
    }
  }
}

/**
 * The agent never ran (or its launch was cut short): queue it again once the
 * half-made worktree and its still-empty branch are gone. If anything there
 * could be work (the agent did start, or the branch has commits), it ends
 * `failed/orchestrator_lost` instead, its worktree snapshotted by the finisher.
 */
async function requeueOrEnd(ctx: AgentContext, finisher: AgentFinisher, agent: AgentRecord, agentStarted: boolean): Promise<void> {
  if (agent.killRequested) {
    await finisher.finish(agent.id, { kind: 'killed' });
    return;
  }
  const lost = async (): Promise<void> => {
    await finisher.finish(agent.id, {
      kind: 'failed',
      error: { code: 'orchestrator_lost', message: 'the server stopped while this agent was being launched' },
    });
  };
  const repo = await ctx.store.repos.get(agent.repo);
  if (agentStarted || !repo) return await lost();
  try {
    // No summary: the launch stopped before the branch was made.
    const summary = await ctx.git.summary(repo.path, agent.baseBranch, agent.branch).catch(() => null);
    if (summary && summary.commitsAhead > 0) return await lost();
    if (existsSync(agent.worktreePath)) await ctx.git.remove(repo.path, agent.worktreePath);
    if (summary) await ctx.git.deleteBranch(repo.path, agent.branch);
  } catch (err) {
    ctx.logger.warn({ agentId: agent.id, err: messageOf(err) }, 'could not clean a half-made worktree; ending the agent');
    return await lost();
  }
  const queued = await ctx.recorder.transition(agent.id, ['spawning'], 'queued', { pid: null, pgid: null, port: null });
  if (queued) ctx.logger.info({ agentId: agent.id }, 'agent caught mid-launch by a restart is queued again');
}
