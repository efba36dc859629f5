import { notFound, tooMany } from '../core/errors.js';
import type { AgentContext } from './context.js';
import { isTerminal } from './lifecycle.js';
import { buildFollowUpRecord, type ReplyRequest } from './reply.js';
import { buildRetryRecord, type RetryRequest } from './retry.js';
import type { AgentLimits, AgentRecord } from './types.js';

/**
 * New agents made from earlier ones and queued like a spawn: a retry, a
 * follow-up (`reply`), the one automatic retry after a rate limit, and the
 * retry of an agent whose cluster node was lost. The records themselves come
 * from retry.ts and reply.ts; this decides when one is made and queues it
 * (queue room checked, record inserted, handed to `enqueue`: the cluster's
 * queue and the scheduler).
 */
export class Requeue {
  constructor(
    private readonly ctx: AgentContext,
    private readonly enqueue: (agent: AgentRecord) => Promise<void>,
  ) {}

  /** A new agent with the same request as a finished one; with `continue`, on its branch's tip. */
  async retry(old: AgentRecord, request: RetryRequest = {}): Promise<AgentRecord> {
    const repo = await this.ctx.store.repos.get(old.repo);
    if (!repo) throw notFound('repo_not_found', `repository '${old.repo}' is no longer registered`);
    // Shared by URL: the old agent may have run on another node; its branch is on the remote.
    if (request.continue === true && isTerminal(old.state)) await this.ctx.remotes.adopt(repo, old.branch);
    const record = await buildRetryRecord(old, repo, request);
    await this.checkRoom();
    return this.queue(record);
  }

  /**
   * The one automatic retry of an agent that failed on its runtime's rate
   * limit: the same request, same origin and grant limits, `retryOf.reason:
   * "rate_limit"`. Queued now, it waits for the reset like any spawn of that
   * runtime. Idempotent per failed agent (a repeated call returns the first
   * retry); undefined when the agent is not such a failure or is itself
   * such a retry (retried once, no more).
   */
  async afterRateLimit(id: string): Promise<AgentRecord | undefined> {
    const old = await this.ctx.store.agents.get(id);
    if (!old || old.state !== 'failed' || old.error?.code !== 'rate_limited' || old.retryOf?.reason === 'rate_limit') return undefined;
    const repo = await this.ctx.store.repos.get(old.repo);
    if (!repo) return undefined;
    const record = await buildRetryRecord({ ...old, origin: 'local' }, repo, {});
    const retry: AgentRecord = {
      ...record, origin: old.origin, limits: old.limits, idempotencyKey: `rate-limit-retry-${old.id}`,
      retryOf: { ...(record.retryOf ?? { agentId: old.id, continue: false, startPoint: null, resumed: null }), reason: 'rate_limit' },
    };
    const { agent, created } = await this.ctx.recorder.insert(retry);
    if (created) await this.enqueue(agent);
    return agent;
  }

  /**
   * A follow-up (see reply.ts): a new agent on the finished agent's branch
   * tip with a new prompt, resuming its session where the runtime can.
   * `origin` is who asks (a peer for its own agents, with the limits its
   * grant sets now); a repeated `idempotencyKey` returns the first follow-up.
   */
  async reply(id: string, load: (id: string) => Promise<AgentRecord>, request: ReplyRequest, origin: string, limits: AgentLimits | null): Promise<AgentRecord> {
    if (request.idempotencyKey !== undefined) {
      const existing = await this.ctx.store.agents.findByIdempotencyKey(origin, request.idempotencyKey);
      if (existing) return existing;
    }
    const old = await load(id);
    const repo = await this.ctx.store.repos.get(old.repo);
    if (!repo) throw notFound('repo_not_found', `repository '${old.repo}' is no longer registered`);
    if (isTerminal(old.state)) await this.ctx.remotes.adopt(repo, old.branch);
    const record = { ...(await buildFollowUpRecord(old, repo, request, origin)), limits };
    await this.checkRoom();
    return this.queue(record);
  }

  /** Cluster: the same request as an agent its lost node ended, for another node (it asked for it with `retryOnNodeLost`). */
  async afterNodeLost(ended: AgentRecord): Promise<AgentRecord | null> {
    if (ended.retryOnNodeLost !== true) return null;
    const repo = await this.ctx.store.repos.get(ended.repo);
    if (!repo) return null;
    try {
      return await this.queue({ ...(await buildRetryRecord(ended, repo, {})), retryOnNodeLost: true });
    } catch (err) {
      this.ctx.logger.warn({ agentId: ended.id, err }, 'could not start again an agent of a lost node');
      return null;
    }
  }

  /** 429 `queue_full` when `MOSAIC_MAX_QUEUE` agents already wait. */
  async checkRoom(): Promise<void> {
    const queued = await this.ctx.store.agents.countByState('queued');
    if (queued >= this.ctx.config.maxQueue) {
      throw tooMany('queue_full', `${queued} agents are already waiting (MOSAIC_MAX_QUEUE=${this.ctx.config.maxQueue})`, { queued });
    }
  }

  private async queue(record: AgentRecord): Promise<AgentRecord> {
    const { agent } = await this.ctx.recorder.insert(record);
    await this.enqueue(agent);
    return agent;
  }
}
