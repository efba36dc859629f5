import { killEach, TERMINAL_STATES, type AgentApi, type AgentCheckout, type AgentLanding, type FetchRequest, type FetchResult, type PushRequest, type PushResult, type LandRequest, type RetryRequest, type ReplyRequest, type KillAllReport, type ListQuery, type LogWait, MAX_LOG_WAIT_MS, type PublicAgent, type SpawnRequest } from '../../agents/index.js';
import { conflict, invalid, isMosaicError, MosaicError, notFound } from '../../core/errors.js';
import { targetOf, type FederationContext } from '../context.js';
import { bundleAnswerLimit } from '../handlers/limits.js';
import type { SendOpts } from '../outbound/index.js';
import { MAX_BODY_BYTES } from '../protocol/index.js';
import type { ConnectionRecord, MirrorEntry } from '../store/index.js';
import { parseRemoteAgent } from './agent-shape.js';
import { checkSpawnAnswer, localBranchOf, peerMisreported } from './names.js';
import { isGone, killRemoteAgent, orphanedError } from './peer-agents.js';
import type { RemoteMirror } from './mirror.js';

const isNotFound = (err: unknown): boolean => isMosaicError(err) && err.code === 'agent_not_found';

/**
 * The AgentApi of a federated instance: agents spawned with `peer` run on
 * that peer through signed commands and are kept in the mirror; every other
 * call goes to the local agents first and to the mirror for ids that are
 * not local. `discard` of a remote agent forgets the mirror entry only: its
 * branch lives on the peer, whose admin decides about it.
 */
export class FederatedAgentApi implements AgentApi {
  constructor(private readonly ctx: FederationContext, private readonly local: AgentApi, private readonly mirror: RemoteMirror) {}

  async spawn(request: SpawnRequest): Promise<{ agent: PublicAgent; created: boolean }> {
    if (request.peer === undefined) return this.local.spawn(request);
    const conn = await this.peer(request.peer);
    const { peer: _peer, ...args } = request;
    return this.mirror.spawning(conn.instanceId, async () => {
      const result = await this.ctx.messenger.send<{ agent: unknown; created?: unknown }>(targetOf(conn), 'COMMAND', { command: 'agent.spawn', args: { ...args } }, { op: 'agent.spawn' });
      const answered = parseRemoteAgent(result.agent);
      checkSpawnAnswer(request, answered);
      const agent = await this.mirror.record(conn.instanceId, answered);
      return { agent, created: result.created !== false };
    });
  }

  async get(id: string): Promise<PublicAgent> {
    try {
      return await this.local.get(id);
    } catch (err) {
      const entry = await this.remoteOr(id, err);
      return this.mirror.freshView(entry);
    }
  }

  async list(query: ListQuery): Promise<PublicAgent[]> {
    const local = await this.local.list(query);
    if (query.scope !== 'all') return local;
    const { scope: _scope, ...filter } = query;
    return [...local, ...(await this.mirror.list(filter))].sort((a, b) => a.createdAt - b.createdAt);
  }

  async kill(id: string): Promise<PublicAgent> {
    try {
      return await this.local.kill(id);
    } catch (err) {
      return this.killRemote((await this.remoteOr(id, err)));
    }
  }

  /**
   * The kill switch: every local agent and every active agent this instance
   * runs on peers. A kill that cannot reach its peer is a failure naming the
   * peer; an agent whose peer is disconnected cannot be reached at all and is
   * reported as orphaned instead.
   */
  async killAll(): Promise<KillAllReport> {
    const report = await this.local.killAll();
    const remote = await this.ctx.store.mirror.list({ state: ['queued', 'spawning', 'running'] });
    const conns = new Map((await this.ctx.store.connections.list()).map((c) => [c.instanceId, c]));
    const peerName = (entry: MirrorEntry) => conns.get(entry.instanceId)?.name ?? entry.instanceId;
    const gone = remote.filter((entry) => isGone(conns.get(entry.instanceId)));
    if (gone.length > 0) report.orphaned = gone.map((entry) => ({ agentId: entry.agent.id, peer: peerName(entry) }));
    return killEach(remote.filter((entry) => !gone.includes(entry)), (entry) => entry.agent.id, (entry) => this.killRemote(entry), report, peerName);
  }

  /**
   * A remote agent's record here is forgotten; its branch lives on the peer,
   * whose admin decides about it. An unfinished one must be killed first —
   * unless its peer is disconnected (orphaned): then `force` forgets it, and
   * the peer keeps its own record.
   */
  async discard(id: string, opts: { force?: boolean } = {}): Promise<void> {
    try {
      await this.local.discard(id, opts);
    } catch (err) {
      const entry = await this.remoteOr(id, err);
      if (!TERMINAL_STATES.includes(entry.agent.state)) {
        const conn = await this.ctx.store.connections.byInstance(entry.instanceId);
        if (!isGone(conn)) throw conflict('agent_active', `agent '${id}' is ${entry.agent.state}; kill it first`, { state: entry.agent.state });
        if (!opts.force) throw orphanedError(entry.agent, conn?.name ?? entry.instanceId, 'killed');
      }
      await this.ctx.store.mirror.remove(id);
    }
  }

  /** Remote agents' worktrees are on their instance: null for them. */
  async checkout(id: string): Promise<AgentCheckout | null> {
    try {
      return await this.local.checkout(id);
    } catch (err) {
      await this.remoteOr(id, err);
      return null;
    }
  }

  /**
   * A remote agent's page comes from its peer (`agent.logs`); a wait is the
   * peer's (bounded within this side's timeout), so a follower sends one
   * request at a time and one per wait while the agent is quiet.
   */
  async logs(id: string, after: number, limit: number, wait: LogWait = {}): Promise<{ lines: string[]; next: number; ended: boolean }> {
    try {
      return await this.local.logs(id, after, limit, wait);
    } catch (err) {
      const entry = await this.remoteOr(id, err);
      const fedTimeoutMs = this.ctx.config.fedTimeoutMs;
      const waitMs = Math.max(0, Math.min(wait.waitMs ?? 0, MAX_LOG_WAIT_MS, fedTimeoutMs - 1000));
      const page = await this.command<{ lines?: unknown; next?: unknown; ended?: unknown }>(entry, 'agent.logs',
        { agentId: id, after, limit, ...(waitMs > 0 ? { waitMs } : {}) },
        waitMs > 0 ? { timeoutMs: waitMs + fedTimeoutMs, ...(wait.signal ? { signal: wait.signal } : {}) } : {});
      if (!Array.isArray(page.lines) || page.lines.some((l) => typeof l !== 'string') || !Number.isSafeInteger(page.next)) {
        throw new MosaicError(502, 'invalid_response', 'the peer answered agent.logs with a malformed page');
      }
      return { lines: page.lines as string[], next: page.next as number, ended: page.ended === true };
    }
  }

  async diff(id: string): Promise<string> {
    try {
      return await this.local.diff(id);
    } catch (err) {
      const result = await this.command<{ diff?: unknown }>((await this.remoteOr(id, err)), 'agent.diff', { agentId: id });
      if (typeof result.diff !== 'string') throw new MosaicError(502, 'invalid_response', 'the peer answered agent.diff without a diff');
      return result.diff;
    }
  }

  /**
   * A remote agent's work is fetched first, then landed in the repository
   * here of the same name: into `into`, or that repository's base branch
   * here (never a branch the peer named). The landing is kept on this
   * side's mirror of the agent (its record lives on the peer), so lists and
   * the dashboard's Review show it landed here.
   */
  async land(id: string, request: LandRequest): Promise<{ agent: PublicAgent; landed: AgentLanding }> {
    try {
      return await this.local.land(id, request);
    } catch (err) {
      const entry = await this.remoteOr(id, err);
      const { agent, fetched } = await this.fetchRemote(entry, {});
      const landed = await this.ctx.agents.landBranch(fetched.repo, await this.workHere(agent, fetched), request);
      return { agent: (await this.mirror.landed(id, landed)) ?? { ...agent, landed }, landed };
    }
  }

  async fetch(id: string, request: FetchRequest): Promise<FetchResult> {
    try {
      return await this.local.fetch(id, request);
    } catch (err) {
      return this.fetchRemote((await this.remoteOr(id, err)), request);
    }
  }

  /** A remote agent's work is fetched first, then pushed from the repository here of the same name (a pull request's base: that repository's base branch). */
  async push(id: string, request: PushRequest): Promise<PushResult> {
    try {
      return await this.local.push(id, request);
    } catch (err) {
      const { agent, fetched } = await this.fetchRemote(await this.remoteOr(id, err), {});
      const pushed = await this.ctx.agents.pushBranch(fetched.repo, await this.workHere(agent, fetched), request);
      return { agent, pushed };
    }
  }

  /**
   * agent.bundle from the peer running it, checked and fetched into
   * `refs/heads/agent-<id>-<task>` here, a name derived from this side's
   * record (names.ts): a bundle or answer naming anything else, or whose
   * objects fail git's checks, is `502 peer_misreported` and nothing is written.
   */
  private async fetchRemote(entry: MirrorEntry, request: FetchRequest): Promise<FetchResult> {
    const agent = await this.mirror.view(entry);
    if (!TERMINAL_STATES.includes(agent.state)) {
      throw conflict('agent_not_finished', `agent '${agent.id}' is ${agent.state}; its work can be fetched once it has ended`, { state: agent.state });
    }
    const branch = localBranchOf(agent);
    if (agent.branch !== branch) throw peerMisreported(`the peer reports agent '${agent.id}' on another branch than ${branch}`, { agentId: agent.id });
    const max = this.ctx.config.bundleMaxBytes;
    const result = await this.command<{ branch?: unknown; base?: unknown; head?: unknown; bundle?: unknown }>(
      entry, 'agent.bundle', { agentId: agent.id }, { maxResponseBytes: Math.max(MAX_BODY_BYTES, bundleAnswerLimit(max)), timeoutMs: Math.max(this.ctx.config.fedTimeoutMs, 60_000) });
    const { base, head, bundle } = result;
    if (typeof base !== 'string' || typeof head !== 'string' || typeof bundle !== 'string') {
      throw new MosaicError(502, 'invalid_response', 'the peer answered agent.bundle without a bundle of the agent\'s branch');
    }
    if (result.branch !== branch) throw peerMisreported(`the peer sent agent '${agent.id}'s work as another branch than ${branch}`, { agentId: agent.id });
    // Checked before decoding: base64 is 4/3 of the bytes it carries.
    if (Math.floor((bundle.length * 3) / 4) > max + 2) {
      throw new MosaicError(413, 'bundle_too_large', `the agent's bundle is larger than ${max} bytes (MOSAIC_BUNDLE_MAX_BYTES)`, { limit: max });
    }
    try {
      const fetched = await this.ctx.agents.importBundle(request.repo ?? agent.repo, { branch, base, head, bytes: Buffer.from(bundle, 'base64') });
      return { agent, fetched };
    } catch (err) {
      // A bundle that does not hold what the peer announced (other refs, bad objects) is the peer's fault, not the caller's.
      if (isMosaicError(err) && err.code === 'invalid_bundle') throw peerMisreported(err.message, { agentId: agent.id, ...err.details });
      throw err;
    }
  }

  /** The fetched work as this side names it: its branch here, and this repository's base branch as its base. */
  private async workHere(agent: PublicAgent, fetched: FetchResult['fetched']): Promise<PublicAgent> {
    const repo = await this.ctx.core.repos.get(fetched.repo);
    if (!repo) throw notFound('repo_not_found', `repository '${fetched.repo}' is no longer registered`);
    return { ...agent, branch: fetched.branch, baseBranch: repo.baseBranch };
  }

  /** Retrying runs here (a remote agent's retry is that peer's spawn: spawn again with `peer`). */
  async retry(id: string, request: RetryRequest): Promise<PublicAgent> {
    return this.local.retry(id, request);
  }

  /**
   * A remote agent's follow-up runs on its peer (`agent.reply`, granted with
   * agent.spawn there): the answer must be a new agent of the same task,
   * repository and base, linked to the old one, and is mirrored like a spawn's.
   */
  async reply(id: string, request: ReplyRequest): Promise<PublicAgent> {
    try {
      return await this.local.reply(id, request);
    } catch (err) {
      const entry = await this.remoteOr(id, err);
      const old = await this.mirror.view(entry);
      if (!TERMINAL_STATES.includes(old.state)) {
        throw conflict('agent_not_finished', `agent '${id}' is ${old.state}; reply once it has ended (or kill it first)`, { state: old.state });
      }
      return this.mirror.spawning(entry.instanceId, async () => {
        const result = await this.command<{ agent?: unknown }>(entry, 'agent.reply', { agentId: id, prompt: request.prompt });
        const answered = parseRemoteAgent(result.agent);
        checkSpawnAnswer({ taskId: old.taskId, repo: old.repo, baseBranch: old.baseBranch, prompt: request.prompt }, answered);
        if (answered.id === old.id || answered.followUpOf?.agentId !== old.id) {
          throw peerMisreported(`the peer answered the reply to '${id}' with an agent that is not its follow-up`, { agentId: answered.id });
        }
        return this.mirror.record(entry.instanceId, answered);
      });
    }
  }

  private async killRemote(entry: MirrorEntry): Promise<PublicAgent> {
    return killRemoteAgent(this.ctx, this.mirror, entry, await this.connectionOf(entry, 'killed'));
  }

  private async command<R>(entry: MirrorEntry, command: string, args: Record<string, unknown>, opts: Pick<SendOpts, 'maxResponseBytes' | 'timeoutMs' | 'retries' | 'signal'> = {}): Promise<R> {
    const conn = await this.connectionOf(entry, 'reached');
    return this.ctx.messenger.send<R>(targetOf(conn), 'COMMAND', { command, args }, { op: command, ...opts });
  }

  /** The active connection to the peer running a remote agent; an unfinished agent of a disconnected peer is orphaned. */
  private async connectionOf(entry: MirrorEntry, what: string): Promise<ConnectionRecord> {
    const conn = await this.ctx.store.connections.byInstance(entry.instanceId);
    if (isGone(conn) && !TERMINAL_STATES.includes(entry.agent.state)) throw orphanedError(entry.agent, conn?.name ?? entry.instanceId, what);
    if (!conn) throw conflict('peer_not_active', `the instance running agent '${entry.agent.id}' is no longer connected`);
    return this.active(conn);
  }

  /** The mirror entry of a non-local id, or the local lookup's error when there is none. */
  private async remoteOr(id: string, err: unknown): Promise<MirrorEntry> {
    if (!isNotFound(err)) throw err;
    const entry = await this.mirror.get(id);
    if (!entry) throw err;
    return entry;
  }

  private async peer(ref: string): Promise<ConnectionRecord> {
    const conn = await this.ctx.store.connections.resolve(ref);
    if (!conn) throw invalid('unknown_peer', `no federated peer '${ref}'`, { field: 'peer' });
    return this.active(conn);
  }

  private active(conn: ConnectionRecord): ConnectionRecord {
    if (conn.state !== 'active') throw conflict('peer_not_active', `the connection with ${conn.name} is ${conn.state}`, { state: conn.state, peer: conn.name });
    return conn;
  }
}
