import { join } from 'node:path';
import { agentDir, type AgentContext } from './context.js';
import type { AgentFinisher } from './finisher.js';
import { CHILD_PID_FILE, isSupervisorAlive, readExitRecord, readPidFile, recordedGroup } from './supervisor/index.js';
import { ExitWatch } from './exit-watch.js';
import { ProgressTracker } from './progress.js';
import type { AgentRecord } from './types.js';

/** While passes keep failing, how often that is said again. */
const FAILURE_REMINDER_MS = 60_000;

/**
 * Watches running agents through their supervisors' files: an exit record
 * means the agent ended; a supervisor gone without one means the agent was
 * orphaned (`failed/orchestrator_lost`). Polling files rather than holding
 * handles is what lets a restarted server pick up agents started by the
 * previous one.
 */
export class AgentMonitor {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** An exit record appeared during a pass: make another right after it. */
  private tickAgain = false;
  private readonly exits = new ExitWatch(() => this.wake());
  /** When the current run of failed passes began (null while passes succeed): an outage is logged once, not every poll. */
  private failingSince: number | null = null;
  private lastFailureLog = 0;
  private readonly progress: ProgressTracker;
  /** Cluster: agents whose kill, asked for on another node, was passed on to their supervisor here. */
  private readonly killsSent = new Set<string>();
  /** This node's running agents at the last pass (a node that loses its lease kills them: see src/cluster). */
  running: AgentRecord[] = [];

  constructor(
    private readonly ctx: AgentContext,
    private readonly finisher: AgentFinisher,
    private readonly onEnded: () => void,
  ) {
    this.progress = new ProgressTracker(ctx);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.ctx.config.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.exits.close();
  }

  /** A just-started agent (the launcher): its end is noticed when it happens, not at the next poll. */
  watch(agentId: string): void {
    if (this.timer !== undefined) this.exits.add(agentId, agentDir(this.ctx.config, agentId));
  }

  /** A pass now (an exit record appeared); one more after the current pass if one is under way. */
  private wake(): void {
    if (this.timer === undefined) return;
    if (this.ticking) this.tickAgain = true;
    else void this.tick();
  }

  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const node = this.ctx.placement?.node;
      const running = await this.ctx.store.agents.list({ state: 'running', ...(node === undefined ? {} : { node }) });
      this.running = running;
      if (this.timer !== undefined) {
        // Agents a previous server started, or whose watch could not be made before, are watched from now on.
        this.exits.retain(new Set(running.map((agent) => agent.id)));
        for (const agent of running) this.exits.add(agent.id, agentDir(this.ctx.config, agent.id));
      }
      await Promise.all(running.map((agent) => this.check(agent)));
      if (this.failingSince !== null) {
        this.ctx.logger.info({ failedForMs: Date.now() - this.failingSince }, 'monitor passes succeed again');
        this.failingSince = null;
      }
    } catch (err) {
      this.logFailure(err);
    } finally {
      this.ticking = false;
      if (this.tickAgain) {
        this.tickAgain = false;
        this.wake();
      }
    }
  }

  /** The first failed pass at error level, then one reminder a minute while they keep failing (e.g. the database is down). */
  private logFailure(err: unknown): void {
    const now = Date.now();
    if (this.failingSince === null) {
      this.failingSince = now;
      this.lastFailureLog = now;
      this.ctx.logger.error({ err }, 'monitor pass failed');
    } else if (now - this.lastFailureLog >= FAILURE_REMINDER_MS) {
      this.lastFailureLog = now;
      this.ctx.logger.warn({ err, failingForMs: now - this.failingSince }, 'monitor passes still failing');
    }
  }

  private async check(agent: AgentRecord): Promise<void> {
    const dir = agentDir(this.ctx.config, agent.id);
    if (agent.pgid === null) {
      // The launch stopped waiting before the agent started: learn its process group now, so a kill can reach it.
      const pgid = readPidFile(join(dir, CHILD_PID_FILE));
      if (pgid !== null) agent = (await this.ctx.store.agents.update(agent.id, { pgid })) ?? agent;
    }
    const exit = readExitRecord(dir);
    if (exit) {
      await this.progress.track(agent);
      this.progress.forget(agent.id);
      await this.finisher.finishFromExit(agent.id, exit);
      this.onEnded();
      return;
    }
    if (agent.pid !== null && isSupervisorAlive(agent.pid, dir)) {
      // In a cluster a kill may be asked on any node: the node running the agent signals it.
      if (this.ctx.placement !== undefined && agent.killRequested && !this.killsSent.has(agent.id)) {
        this.killsSent.add(agent.id);
        this.finisher.signalKill(agent.id, agent.pid, agent.pgid);
      }
      await this.progress.track(agent);
      return;
    }
    this.progress.forget(agent.id);
    // The supervisor may have written its record between the two reads.
    const late = readExitRecord(dir);
    if (late) {
      await this.finisher.finishFromExit(agent.id, late);
    } else {
      await this.endOrphan(agent);
    }
    this.onEnded();
  }

  /** The supervisor is gone without an exit record: stop what is left, save the work. */
  private async endOrphan(agent: AgentRecord): Promise<void> {
    // Only what is provably the agent's: its group while its leader is, else the members carrying its marker (never a stranger that took the number).
    recordedGroup(join(agentDir(this.ctx.config, agent.id), CHILD_PID_FILE), agent.id, agent.pgid)?.signal('SIGKILL');
    await this.finisher.finish(agent.id, {
      kind: 'failed',
      error: { code: 'orchestrator_lost', message: 'the agent\'s supervisor ended without recording an exit status' },
    });
  }
}
