import { join } from 'node:path';
import { agentDir, type AgentContext } from './context.js';
import type { AgentFinisher } from './finisher.js';
import { SETUP_PID_FILE } from './setup.js';
import { CHILD_PID_FILE, isSupervisorAlive, readExitRecord, readPidFile, signalGroup, SUPERVISOR_PID_FILE } from './supervisor/index.js';

/**
 * At start-up, agents left `spawning` were mid-launch when the previous
 * server stopped. One whose supervisor did start is running: record it so
 * the monitor follows it. One without is lost: end it (its worktree, if any,
 * is snapshotted by the finisher).
 */
export async function reattachSpawning(ctx: AgentContext, finisher: AgentFinisher): Promise<void> {
  for (const agent of await ctx.store.agents.list({ state: 'spawning' })) {
    const dir = agentDir(ctx.config, agent.id);
    const supervisorPid = readPidFile(join(dir, SUPERVISOR_PID_FILE));
    const pgid = readPidFile(join(dir, CHILD_PID_FILE));
    const exit = readExitRecord(dir);
    if (exit) {
      await finisher.finishFromExit(agent.id, exit);
    } else if (supervisorPid !== null && pgid !== null && isSupervisorAlive(supervisorPid, dir)) {
      const running = await ctx.recorder.transition(agent.id, ['spawning'], 'running', { pid: supervisorPid, pgid, startedAt: Date.now() });
      if (running?.killRequested) finisher.signalKill(agent.id, supervisorPid, pgid);
    } else {
      // Whatever the previous server left running for this agent (its setup, a half-started agent) ends first.
      for (const group of [pgid, readPidFile(join(dir, SETUP_PID_FILE))]) {
        if (group !== null) signalGroup(group, 'SIGKILL');
      }
      await finisher.finish(agent.id, {
        kind: 'failed',
        error: { code: 'orchestrator_lost', message: 'the server stopped while this agent was being launched' },
      });
    }
  }
}
