import type { AgentContext } from './context.js';
import type { QueueHolds } from './gate.js';
import type { AgentLauncher } from './launcher.js';
import { AGENT_STATE_EVENT } from '../store/index.js';
import type { AgentRecord, AgentWaiting } from './types.js';

const sameWaiting = (a: AgentWaiting | null, b: AgentWaiting | null): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Keeps at most `maxAgents` agents spawning or running; the rest wait
 * `queued`, highest priority first, then oldest. With a gate (fleet
 * budgets, rate-limit pauses) a queued agent the gate holds is skipped and
 * marked with `waitingFor` (one `agent.state` event when that changes), so
 * an agent behind it may start. In a cluster the same holds apply to the
 * jobs a node takes from the cluster's queue, and agents no up node can
 * serve are marked `no_capable_node`. `pump()` is cheap and safe to call from
 * anywhere (a spawn, an agent ending, a budget raised, a reset): concurrent
 * calls coalesce into one more pass.
 */
export class Scheduler {
  private pumping = false;
  private again = false;
  private readonly launches = new Set<Promise<void>>();
  private stopped = false;
  /** The holds' signature the whole queue was last marked for (none yet: marks a previous server left are checked once). */
  private markedFor: string | undefined;
  /** The last queued agent's insertion seq a pass has marked. */
  private seenSeq = 0;

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

  /**
   * One scheduling decision: the agent to start next, or undefined (`room`
   * false: none, only the marks are kept current). With a gate, held agents
   * are passed over by the store query itself, and their `waitingFor` marks
   * are written when what is held changes (the whole queue is re-marked) or
   * for agents queued since the last pass — never a read of the whole queue
   * per decision.
   */
  async decide(room: boolean): Promise<AgentRecord | undefined> {
    const holds = await this.currentHolds();
    if (!room || holds?.all === true) return undefined;
    return this.ctx.store.agents.nextQueued(holds?.skip);
  }

  /**
   * What holds queued agents now — fleet governance, and in a cluster the
   * agents no up node can serve — with their `waitingFor` marks kept current.
   */
  private async currentHolds(): Promise<QueueHolds | null> {
    const gate = this.ctx.gate ? await this.ctx.gate.holds() : null;
    const placed = this.ctx.placement ? await this.ctx.placement.holds() : null;
    const holds: QueueHolds | null = placed === null ? gate : {
      signature: `${gate?.signature ?? ''}|${placed.signature}`,
      all: gate?.all ?? false,
      skip: gate?.skip ?? {},
      waitingFor: (agent) => gate?.waitingFor(agent) ?? placed.waitingFor(agent),
    };
    const signature = holds?.signature ?? '';
    if (signature !== this.markedFor) {
      await this.mark(holds, 0);
      this.markedFor = signature;
    } else if (holds !== null) {
      await this.mark(holds, this.seenSeq);
    }
    return holds;
  }

  /** Writes the `waitingFor` of queued agents after `afterSeq` (one `agent.state` event each that changes). */
  private async mark(holds: QueueHolds | null, afterSeq: number): Promise<void> {
    const { store, bus } = this.ctx;
    for (const agent of await store.agents.queued(afterSeq)) {
      this.seenSeq = Math.max(this.seenSeq, agent.seq);
      const waiting = holds?.waitingFor(agent) ?? null;
      if (sameWaiting(agent.waitingFor, waiting)) continue;
      // The agent may have started or ended meanwhile: only a queued one is (un)marked.
      const current = await store.agents.get(agent.id);
      if (current?.state !== 'queued') continue;
      const updated = await store.agents.updateWithEvent(agent.id, { waitingFor: waiting }, AGENT_STATE_EVENT);
      if (updated) bus.publish(updated.event);
    }
  }

  private async loop(): Promise<void> {
    const { store, recorder, config, logger } = this.ctx;
    try {
      while (!this.stopped) {
        const placement = this.ctx.placement;
        const active = placement === undefined
          ? await store.agents.countByState(['spawning', 'running'])
          : (await store.agents.list({ state: ['spawning', 'running'], node: placement.node })).length;
        let nextId: string;
        let settle: (() => Promise<void>) | undefined;
        if (placement === undefined) {
          // Fleet governance (budgets, rate limits) decides here; see decide().
          const next = await this.decide(active < config.maxAgents);
          if (!next) return;
          nextId = next.id;
        } else {
          // The same fleet governance as on one machine: held agents are marked, and neither taken nor started here.
          const holds = await this.currentHolds();
          if (active >= config.maxAgents || !placement.accepting() || holds?.all === true) return;
          // Agents pinned to this node (or queued again here by a restart) first, then the cluster's queue.
          const pinned = (await store.agents.list({ state: 'queued', node: placement.node }))
            .filter((agent) => holds === null || holds.waitingFor({ ...agent, seq: 0 }) === null)
            .sort((a, b) => b.priority - a.priority || a.createdAt - b.createdAt)[0];
          const taken = pinned === undefined ? await placement.take(holds?.skip) : undefined;
          if (pinned === undefined && taken === undefined) return;
          nextId = pinned?.id ?? (taken as { agentId: string }).agentId;
          settle = taken?.settle;
        }
        let spawning;
        try {
          // In a cluster the transition is the claim: of the nodes that took one job, one moves it.
          spawning = await recorder.transition(nextId, ['queued'], 'spawning', placement ? { node: placement.node, waitingFor: null } : { waitingFor: null });
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
