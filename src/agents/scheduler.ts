import type { AgentContext } from './context.js';
import type { AgentLauncher } from './launcher.js';

/**
 * Keeps at most `maxAgents` agents spawning or running; the rest wait
 * `queued`, highest priority first, then oldest. `pump()` is cheap and safe to
 * call from anywhere (a spawn, an agent ending, start-up): concurrent calls
 * coalesce into one more pass.
 */
export class Scheduler {
  private pumping = false;
  private again = false;
  private readonly launches = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly ctx: AgentContext,
    private readonly launcher: AgentLauncher,
  ) {}

  pump(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.loop().finally(() => {
      this.pumping = false;
      if (this.again) {
        this.again = false;
        this.pump();
      }
    });
  }

  /** Stops starting new agents and waits for launches under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.launches]);
  }

  private async loop(): Promise<void> {
    const { store, recorder, config, logger } = this.ctx;
    try {
      while (!this.stopped) {
        const active = await store.agents.countByState(['spawning', 'running']);
        if (active >= config.maxAgents) return;
        const next = await store.agents.nextQueued();
        if (!next) return;
        const spawning = await recorder.transition(next.id, ['queued'], 'spawning');
        if (!spawning) continue; // killed meanwhile
        // A launch reports its own failures on the agent; anything escaping that is logged, never an unhandled rejection.
        const launch = this.launcher.launch(spawning).catch((err: unknown) => logger.error({ err, agentId: spawning.id }, 'agent launch failed unexpectedly'));
        this.launches.add(launch);
        void launch.finally(() => {
          this.launches.delete(launch);
          this.pump();
        });
      }
    } catch (err) {
      logger.error({ err }, 'scheduler pass failed');
    }
  }
}
