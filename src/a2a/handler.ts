import type { AgentCard, ListTasksRequest, ListTasksResponse, Message, SendMessageRequest, StreamResponse, Task } from '@a2a-js/sdk';
import { ExtendedAgentCardNotConfiguredError, PushNotificationNotSupportedError } from '@a2a-js/sdk/errors';
import type { A2ARequestHandler, ServerCallContext } from '@a2a-js/sdk/server';
import { ACTIVE_STATES, isTerminal, tailLog, waitAgents, type AgentRecord, type AgentService, type EventBus } from '../agents/index.js';
import { renderLogLine } from '../agents/runtimes/log-render.js';
import { invalid, notFound, unauthorized } from '../core/errors.js';
import { KeyedMutex } from '../core/mutex.js';
import { authorizeGrantedSpawn, checkGrant } from '../federation/index.js';
import type { Store } from '../store/index.js';
import { A2aCaller } from './caller.js';
import { isMosaicRefusal } from './errors.js';
import { followTask } from './follow.js';
import { followUpOf, spawnRequestOf, type FollowUpMessage } from './request.js';
import { agentStatesOf, artifactsOf, taskOf } from './task-view.js';

/** Keys of the per-request state the Fastify plugin and this handler share (ServerCallContext.state). */
export const SIGNAL_KEY = 'mosaic.signal';
export const REFUSAL_KEY = 'mosaic.refusal';

/** How long CancelTask waits for the agent's processes to end before answering with the task as it is. */
const CANCEL_WAIT_MS = 15_000;
/** A blocking SendMessage waits for the end of the agent as long as its client stays (this is only a backstop). */
const BLOCKING_WAIT_MS = 24 * 3600_000;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;

export interface A2aHandlerDeps {
  agents: Pick<AgentService, 'spawn' | 'reply' | 'get' | 'list' | 'kill' | 'diff' | 'logs'>;
  store: { agents: Pick<Store['agents'], 'findByIdempotencyKey'>; repos: Pick<Store['repos'], 'get'> };
  bus: Pick<EventBus, 'subscribe'>;
  card(): AgentCard;
}

/**
 * A2A over Mosaic's agents (the SDK's A2ARequestHandler, served by its
 * JSON-RPC transport handlers): a task is an agent, its id the agent id. Not
 * the SDK's DefaultRequestHandler: Mosaic's store is the task store, its
 * event bus the event stream, so nothing is kept twice.
 */
export class MosaicA2aHandler implements A2ARequestHandler {
  /** Spawns of one token run one at a time, so `maxActiveAgents` holds under concurrent requests. */
  private readonly spawnLocks = new KeyedMutex();

  constructor(private readonly deps: A2aHandlerDeps) {}

  async getAgentCard(): Promise<AgentCard> {
    return this.deps.card();
  }

  async getAuthenticatedExtendedAgentCard(): Promise<AgentCard> {
    throw new ExtendedAgentCardNotConfiguredError('this agent has no extended card');
  }

  sendMessage(params: SendMessageRequest, context: ServerCallContext): Promise<Message | Task> {
    return this.guard(context, async (caller) => {
      let agent = await this.spawn(caller, params);
      if (params.configuration?.returnImmediately !== true && !isTerminal(agent.state)) {
        const signal = signalOf(context);
        [agent] = (await waitAgents((id) => this.deps.agents.get(id), this.deps.bus, [agent.id], BLOCKING_WAIT_MS, signal ? { signal } : {})).agents as [AgentRecord];
      }
      return taskOf(agent, await this.artifacts(agent));
    });
  }

  async *sendMessageStream(params: SendMessageRequest, context: ServerCallContext): AsyncGenerator<StreamResponse, void, undefined> {
    const agent = await this.guard(context, (caller) => this.spawn(caller, params));
    yield* this.follow(agent.id, context);
  }

  getTask(params: { id: string }, context: ServerCallContext): Promise<Task> {
    return this.guard(context, async (caller) => {
      const agent = await this.visible(caller, 'agent.status', params.id);
      return taskOf(agent, await this.artifacts(agent));
    });
  }

  listTasks(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    return this.guard(context, async (caller) => {
      if (caller.token) checkGrant(caller.token.grants, { command: 'agent.list' });
      const pageSize = params.pageSize ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
        throw invalid('invalid_page_size', `pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`, { field: 'pageSize' });
      }
      const offset = params.pageToken === '' ? 0 : Number(params.pageToken);
      if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('invalid_page_token', 'pageToken must be a nextPageToken this server gave', { field: 'pageToken' });
      const states = params.status ? agentStatesOf(params.status) : undefined;
      const after = params.statusTimestampAfter ? Date.parse(params.statusTimestampAfter) : undefined;
      const all = (await this.deps.agents.list({
        ...(caller.token ? { origin: caller.origin } : {}),
        ...(states ? { state: states } : {}),
        ...(params.contextId ? { taskId: params.contextId } : {}),
      })).filter((agent) => after === undefined || Number.isNaN(after) || agent.updatedAt > after)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
      const page = all.slice(offset, offset + pageSize);
      const tasks = await Promise.all(page.map(async (agent) => taskOf(agent, params.includeArtifacts ? await this.artifacts(agent) : [])));
      const next = offset + page.length;
      return { tasks, nextPageToken: next < all.length ? String(next) : '', pageSize: page.length, totalSize: all.length };
    });
  }

  /** Kills the agent (a queued one ends at once) and answers once it has ended, or with its state after CANCEL_WAIT_MS. */
  cancelTask(params: { id: string }, context: ServerCallContext): Promise<Task> {
    return this.guard(context, async (caller) => {
      const agent = await this.visible(caller, 'agent.kill', params.id);
      await this.deps.agents.kill(agent.id);
      const signal = signalOf(context);
      const [ended] = (await waitAgents((id) => this.deps.agents.get(id), this.deps.bus, [agent.id], CANCEL_WAIT_MS, signal ? { signal } : {})).agents as [AgentRecord];
      return taskOf(ended, await this.artifacts(ended));
    });
  }

  async *resubscribe(params: { id: string }, context: ServerCallContext): AsyncGenerator<StreamResponse, void, undefined> {
    const agent = await this.guard(context, (caller) => this.visible(caller, 'agent.status', params.id));
    yield* this.follow(agent.id, context);
  }

  async createTaskPushNotificationConfig(): Promise<never> {
    throw new PushNotificationNotSupportedError('push notifications are not supported: stream the task (SubscribeToTask) or poll GetTask');
  }

  getTaskPushNotificationConfig = this.createTaskPushNotificationConfig;
  listTaskPushNotificationConfigs = this.createTaskPushNotificationConfig;
  deleteTaskPushNotificationConfig = this.createTaskPushNotificationConfig;

  private follow(id: string, context: ServerCallContext): AsyncGenerator<StreamResponse, void, undefined> {
    return followTask({ get: (agentId) => this.deps.agents.get(agentId), bus: this.deps.bus, artifacts: (agent) => this.artifacts(agent) }, id, signalOf(context));
  }

  private artifacts(agent: AgentRecord) {
    return artifactsOf(agent, {
      diff: (id) => this.deps.agents.diff(id),
      tail: async (id, n) => (await tailLog((after, limit) => this.deps.agents.logs(id, after, limit), n, {
        render: agent.runtime.kind !== 'command' ? renderLogLine : undefined,
      })).lines,
    });
  }

  /**
   * The spawn a message asks for, as this caller: the admin's like an API
   * spawn; a token's checked against its grants exactly as a peer's are
   * (federation/protocol/grants.ts), always sandboxed, origin `a2a:<tokenId>`.
   */
  private async spawn(caller: A2aCaller, params: SendMessageRequest): Promise<AgentRecord> {
    const followUp = followUpOf(params.message);
    if (followUp) return this.continueTask(caller, followUp);
    const request = spawnRequestOf(params.message);
    const token = caller.token;
    if (!token) return (await this.deps.agents.spawn(request)).agent;
    return this.spawnLocks.run(caller.origin, async () => {
      // A client's retry of a message already acted on gets its task, even at its limit.
      const existing = request.idempotencyKey === undefined ? undefined : await this.deps.store.agents.findByIdempotencyKey(caller.origin, request.idempotencyKey);
      if (existing) return existing;
      const active = (await this.deps.agents.list({ origin: caller.origin, state: [...ACTIVE_STATES] })).length;
      // The base branch is held to the grant as a peer's is (the repository's base, or `grants.baseBranches`).
      const repo = await this.deps.store.repos.get(request.repo);
      const limits = authorizeGrantedSpawn(token.grants, request, active, repo?.baseBranch ?? null);
      return (await this.deps.agents.spawn(request, caller.origin, limits)).agent;
    });
  }

  /**
   * A follow-up of a finished task the caller may see: the service's
   * `reply` (a new agent on its branch tip, its session resumed where the
   * runtime can). A token's is checked as the same spawn would be now,
   * exactly as a peer's `agent.reply` is (its grant may have changed since).
   */
  private async continueTask(caller: A2aCaller, followUp: FollowUpMessage): Promise<AgentRecord> {
    const agent = await this.visible(caller, 'agent.status', followUp.referenceTaskId);
    const reply = { prompt: followUp.prompt, ...(followUp.idempotencyKey ? { idempotencyKey: followUp.idempotencyKey } : {}) };
    const token = caller.token;
    if (!token) return this.deps.agents.reply(agent.id, reply);
    return this.spawnLocks.run(caller.origin, async () => {
      const existing = reply.idempotencyKey === undefined ? undefined : await this.deps.store.agents.findByIdempotencyKey(caller.origin, reply.idempotencyKey);
      if (existing) return existing;
      const active = (await this.deps.agents.list({ origin: caller.origin, state: [...ACTIVE_STATES] })).length;
      const repo = await this.deps.store.repos.get(agent.repo);
      const limits = authorizeGrantedSpawn(token.grants, {
        taskId: agent.taskId, repo: agent.repo, baseBranch: agent.baseBranch, prompt: followUp.prompt, runtime: agent.runtime, env: agent.env,
      }, active, repo?.baseBranch ?? null);
      return this.deps.agents.reply(agent.id, reply, caller.origin, limits);
    });
  }

  /** The agent if this caller may see it; an unknown id and another caller's agent are the same 404. */
  private async visible(caller: A2aCaller, command: 'agent.status' | 'agent.kill', id: string): Promise<AgentRecord> {
    if (caller.token) checkGrant(caller.token.grants, { command });
    const agent = await this.deps.agents.get(id).catch(() => undefined);
    if (!agent || !caller.owns(agent)) throw notFound('task_not_found', `no task '${id}'`);
    return agent;
  }

  /** Runs `fn` as the context's caller; a Mosaic refusal is kept for the transport to answer with its code. */
  private async guard<T>(context: ServerCallContext, fn: (caller: A2aCaller) => Promise<T>): Promise<T> {
    try {
      const caller = context.user;
      if (!(caller instanceof A2aCaller)) throw unauthorized('auth_required', 'missing Authorization: Bearer <token>');
      return await fn(caller);
    } catch (err) {
      if (isMosaicRefusal(err)) context.state.set(REFUSAL_KEY, err);
      throw err;
    }
  }
}

const signalOf = (context: ServerCallContext): AbortSignal | undefined => context.state.get(SIGNAL_KEY) as AbortSignal | undefined;
