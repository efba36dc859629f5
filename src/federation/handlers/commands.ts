import { ACTIVE_STATES, AGENT_STATES, MAX_LOG_WAIT_MS, MAX_REPLY_PROMPT, type AgentRecord, type AgentState } from '../../agents/index.js';
import { forbidden } from '../../core/errors.js';
import { KeyedMutex } from '../../core/mutex.js';
import { isValidName } from '../../core/ids.js';
import type { FederationContext } from '../context.js';
import { authorizeGrantedSpawn, grantFor, ProtocolError, type CommandBody, type JsonObject } from '../protocol/index.js';
import type { ConnectionRecord } from '../store/index.js';
import { boundedAgent, boundedAgentList } from './bounded-agent.js';
import { MAX_RESULT_BYTES } from './limits.js';
import { parseSpawnArgs } from './spawn-args.js';

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * `agent.*` commands from a verified, active peer. Each is checked against
 * the peer's grants, and a peer only ever sees and controls agents it
 * spawned: any other id — another origin's agent or none at all — is the
 * same 403 `agent_not_owned`, so a peer cannot even learn which ids exist.
 */
export class CommandHandler {
  /** Spawns of one peer run one at a time, so `maxActiveAgents` holds under concurrent requests. */
  private readonly spawnLocks = new KeyedMutex();

  constructor(private readonly ctx: FederationContext) {}

  async handle(peer: ConnectionRecord, { command, args }: CommandBody, messageId: string): Promise<unknown> {
    // The command itself first; agent.spawn (and agent.reply, which it grants) is checked in full (repo, runtime, count) once its args are known.
    const granted = grantFor(command);
    if (!peer.grants.commands.includes(granted)) {
      throw forbidden('command_not_granted', `this peer is not granted ${granted}${granted === command ? '' : ` (${command} starts an agent)`}`, { command: granted });
    }
    switch (command) {
      case 'agent.spawn':
        return this.spawnLocks.run(peer.instanceId, () => this.spawn(peer, args, messageId));
      case 'agent.reply':
        return this.spawnLocks.run(peer.instanceId, () => this.reply(peer, args, messageId));
      case 'agent.status':
        return { agent: boundedAgent(await this.owned(peer, args)) };
      case 'agent.kill': {
        const agent = await this.owned(peer, args);
        return { agent: boundedAgent(await this.ctx.agents.kill(agent.id)) };
      }
      case 'agent.list':
        return boundedAgentList(await this.ctx.agents.list({ origin: peer.instanceId, ...stateFilter(args) }));
      case 'agent.logs': {
        const agent = await this.owned(peer, args);
        const after = optionalInt(args.after, 'after', 0, Number.MAX_SAFE_INTEGER) ?? 0;
        const limit = optionalInt(args.limit, 'limit', 1, 10_000) ?? 1000;
        // Long polling (a remote follower): an empty page waits here for the next line, within the sender's timeout.
        const waitMs = optionalInt(args.waitMs, 'waitMs', 0, MAX_LOG_WAIT_MS) ?? 0;
        return fitLogPage(await this.ctx.agents.logs(agent.id, after, limit, { waitMs, signal: this.ctx.closing }), after);
      }
      case 'agent.diff': {
        const agent = await this.owned(peer, args);
        return fitDiff(await this.ctx.agents.diff(agent.id));
      }
      case 'agent.bundle': {
        const agent = await this.owned(peer, args);
        const bundle = await this.ctx.agents.bundle(agent.id);
        return { branch: agent.branch, base: bundle.base, head: bundle.head, bytes: bundle.bytes.length, bundle: bundle.bytes.toString('base64') };
      }
    }
  }

  private async spawn(peer: ConnectionRecord, args: JsonObject, messageId: string): Promise<unknown> {
    const request = parseSpawnArgs(args);
    // Counted again before a replayed key returns its agent: a repeat of a spawn that already happened must still answer.
    const existing = request.idempotencyKey === undefined ? undefined
      : await this.ctx.core.agents.findByIdempotencyKey(peer.instanceId, request.idempotencyKey);
    if (existing) return { agent: boundedAgent(existing), created: false };
    const activeAgents = (await this.ctx.agents.list({ origin: peer.instanceId, state: [...ACTIVE_STATES] })).length;
    // What the grant allows goes with the agent: its claude argv (shell tools) and its sandbox (network) follow it.
    const repo = await this.ctx.core.repos.get(request.repo);
    const limits = authorizeGrantedSpawn(peer.grants, request, activeAgents, repo?.baseBranch ?? null);
    // Without a key of the caller's own, the message id is the key: were this instance to crash after
    // creating the agent but before storing its answer, the peer's retry finds the agent instead of making another.
    const { agent, created } = await this.ctx.agents.spawn({ ...request, idempotencyKey: request.idempotencyKey ?? `msg-${messageId}` }, peer.instanceId, limits);
    this.ctx.logger.info({ peer: peer.instanceId, agentId: agent.id, repo: agent.repo }, 'agent spawned for peer');
    return { agent: boundedAgent(agent), created };
  }

  /**
   * A follow-up of one of the peer's own finished agents (`agent.reply
   * {agentId, prompt}`): checked as a spawn of the same request would be now
   * (its grant may have changed since), run with the limits the grant sets
   * now, and keyed by the message id like a spawn, so a redelivery after a
   * crash finds the follow-up instead of making another.
   */
  private async reply(peer: ConnectionRecord, args: JsonObject, messageId: string): Promise<unknown> {
    const prompt = parseReplyArgs(args);
    const agent = await this.owned(peer, args);
    const idempotencyKey = `msg-${messageId}`;
    const existing = await this.ctx.core.agents.findByIdempotencyKey(peer.instanceId, idempotencyKey);
    if (existing) return { agent: boundedAgent(existing), created: false };
    const activeAgents = (await this.ctx.agents.list({ origin: peer.instanceId, state: [...ACTIVE_STATES] })).length;
    // The follow-up is checked as the same spawn would be now (the grant may have changed since the first).
    // It continues the peer's own agent from its branch tip; the base that agent came from is checked again.
    const repo = await this.ctx.core.repos.get(agent.repo);
    const limits = authorizeGrantedSpawn(peer.grants, { taskId: agent.taskId, repo: agent.repo, baseBranch: agent.baseBranch, prompt, runtime: agent.runtime, env: agent.env },
      activeAgents, repo?.baseBranch ?? null);
    const followUp = await this.ctx.agents.reply(agent.id, { prompt, idempotencyKey }, peer.instanceId, limits);
    this.ctx.logger.info({ peer: peer.instanceId, agentId: followUp.id, followUpOf: agent.id }, 'follow-up spawned for peer');
    return { agent: boundedAgent(followUp), created: true };
  }

  private async owned(peer: ConnectionRecord, args: JsonObject): Promise<AgentRecord> {
    const id = args.agentId;
    if (!isValidName(id)) throw new ProtocolError(400, 'invalid_args', 'args.agentId must be an agent id', { field: 'args.agentId' });
    const agent = await this.ctx.core.agents.get(id);
    if (!agent || agent.origin !== peer.instanceId) {
      throw new ProtocolError(403, 'agent_not_owned', `agent '${id}' was not spawned by this peer`, { agentId: id });
    }
    return agent;
  }
}

/** `agent.reply` args: exactly {agentId, prompt}; the prompt bounded as a spawn's. */
function parseReplyArgs(args: JsonObject): string {
  for (const key of Object.keys(args)) {
    if (key !== 'agentId' && key !== 'prompt') throw new ProtocolError(400, 'invalid_args', `unknown field '${key}'`, { field: `args.${key}` });
  }
  const prompt = args.prompt;
  if (typeof prompt !== 'string' || prompt.length === 0 || prompt.length > MAX_REPLY_PROMPT) {
    throw new ProtocolError(400, 'invalid_args', `prompt must be a string of 1..${MAX_REPLY_PROMPT} characters`, { field: 'args.prompt' });
  }
  return prompt;
}

function stateFilter(args: JsonObject): { state?: AgentState } {
  if (args.state === undefined) return {};
  if (!(AGENT_STATES as readonly unknown[]).includes(args.state)) {
    throw new ProtocolError(400, 'invalid_args', `args.state must be one of ${AGENT_STATES.join(', ')}`, { field: 'args.state' });
  }
  return { state: args.state as AgentState };
}

function optionalInt(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError(400, 'invalid_args', `args.${field} must be an integer from ${min} to ${max}`, { field: `args.${field}` });
  }
  return value;
}

/** Drops trailing lines (resuming from the first one dropped) so the page fits in one message. */
export function fitLogPage(page: { lines: string[]; next: number; ended: boolean }, after: number): { lines: string[]; next: number; ended: boolean } {
  if (jsonBytes(page) <= MAX_RESULT_BYTES) return page;
  const lines: string[] = [];
  let size = 64;
  let next = after;
  for (const line of page.lines) {
    const cost = jsonBytes(line) + 1;
    if (size + cost > MAX_RESULT_BYTES) {
      if (lines.length > 0) break;
      // One line alone is too large: send its start, and move past it.
      lines.push(`${line.slice(0, MAX_RESULT_BYTES / 8)} [truncated]`);
      next += Buffer.byteLength(line) + 1;
      break;
    }
    lines.push(line);
    size += cost;
    next += Buffer.byteLength(line) + 1;
  }
  // The log's last line may lack its newline; never move past what the page itself read.
  return { lines, next: Math.min(next, page.next), ended: page.ended && lines.length === page.lines.length };
}

export function fitDiff(diff: string): { diff: string; truncated?: true } {
  if (jsonBytes(diff) <= MAX_RESULT_BYTES) return { diff };
  let cut = diff;
  while (jsonBytes(cut) > MAX_RESULT_BYTES) cut = cut.slice(0, Math.floor(cut.length * 0.8));
  return { diff: cut, truncated: true };
}
