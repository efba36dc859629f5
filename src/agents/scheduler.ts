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
        const placement = this.ctx.placement;
        const active = placement === undefined
          ? await store.agents.countByState(['spawning', 'running'])
          : (await store.agents.list({ state: ['spawning', 'running'], node: placement.node })).length;
        if (active >= config.maxAgents) return;
        let nextId: string;
        let settle: (() => Promise<void>) | undefined;
        if (placement === undefined) {
          const next = await store.agents.nextQueued();
          if (!next) return;
          nextId = next.id;
        } else {
          if (!placement.accepting()) return;
          // Agents pinned to this node (or queued again here by a restart) first, then the cluster's queue.
          const pinned = (await store.agents.list({ state: 'queued', node: placement.node }))
            .sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt)[0];
          const taken = pinned === undefined ? await placement.take() : undefined;
          if (pinned === undefined && taken === undefined) return;
          nextId = pinned?.id ?? (taken as { agentId: string }).agentId;
          settle = taken?.settle;
        }
        let spawning;
        try {
          // In a cluster the transition is the claim: of the nodes that took one job, one moves it.
          spawning = await recorder.transition(nextId, ['queued'], 'spawning', placement ? { node: placement.node } : {});
        } finally {
          await settle?.().catch((err: unknown) => logger.warn({ err, agentId: nextId }, 'could not settle a queue job'));
        }
        if (!spawning) continue; // killed meanwhile, or another node took it
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
