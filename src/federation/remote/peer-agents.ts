import { ACTIVE_STATES, TERMINAL_STATES, type PublicAgent } from '../../agents/index.js';
import { conflict } from '../../core/errors.js';
import { targetOf, type FederationContext } from '../context.js';
import type { ConnectionRecord, MirrorEntry } from '../store/index.js';
import { parseRemoteAgent } from './agent-shape.js';
import type { RemoteMirror } from './mirror.js';

/** Polls of the mirror while kills sent before a disconnect take effect. */
const ENDED_POLL_MS = 200;

/**
 * A connection that will never carry this peer's messages again
 * (disconnected or rejected, or forgotten): its unfinished agents here are
 * orphaned — their state can no longer change, and nothing from here can
 * reach them (the peer keeps running them; its admin decides).
 */
export function isGone(conn: ConnectionRecord | undefined): boolean {
  return conn === undefined || conn.state === 'disconnected' || conn.state === 'rejected';
}

/** The error for a command that would have to reach an orphaned agent's peer. */
export function orphanedError(agent: PublicAgent, peer: string, what: string): Error {
  return conflict('agent_orphaned',
    `agent '${agent.id}' ran on ${peer}, which is disconnected: it cannot be ${what} from here (${peer}'s admin can). `
    + `\`mosaic agents discard ${agent.id} --force\` forgets it here; ${peer} keeps its own record`,
    { agentId: agent.id, peer, state: agent.state });
}

/** Agents this instance spawned on `instanceId` that have not ended (as far as the mirror knows). */
export function unfinishedOn(ctx: FederationContext, instanceId: string): Promise<MirrorEntry[]> {
  return ctx.store.mirror.list({ instanceId, state: [...ACTIVE_STATES] });
}

/** Sends agent.kill for a mirrored agent to its peer and keeps the answer. */
export async function killRemoteAgent(ctx: FederationContext, mirror: RemoteMirror, entry: MirrorEntry, conn: ConnectionRecord): Promise<PublicAgent> {
  if (TERMINAL_STATES.includes(entry.agent.state)) {
    throw conflict('agent_not_active', `agent '${entry.agent.id}' is already ${entry.agent.state}`, { state: entry.agent.state });
  }
  const result = await ctx.messenger.send<{ agent: unknown }>(targetOf(conn), 'COMMAND', { command: 'agent.kill', args: { agentId: entry.agent.id } }, { op: 'agent.kill' });
  return mirror.record(entry.instanceId, parseRemoteAgent(result.agent));
}

export interface PeerAgentsKilled {
  /** Ended on the peer (and so here) before the disconnect. */
  killed: string[];
  /** Could not be killed, or did not end in time: left orphaned. */
  failed: { agentId: string; code: string; message: string }[];
}

/**
 * `peers disconnect --kill-agents`: kills every unfinished agent this
 * instance runs on the peer while it is still connected, and waits (up to
 * `waitMs`) until the peer's events say they ended, so the records here are
 * final before the connection closes (afterwards nothing from the peer is
 * accepted). One still running when time is up is asked once more by
 * agent.status, then reported as failed.
 */
export async function killAgentsOn(ctx: FederationContext, mirror: RemoteMirror, conn: ConnectionRecord, waitMs: number): Promise<PeerAgentsKilled> {
  const out: PeerAgentsKilled = { killed: [], failed: [] };
  const asked: MirrorEntry[] = [];
  await Promise.all((await unfinishedOn(ctx, conn.instanceId)).map(async (entry) => {
    try {
      await killRemoteAgent(ctx, mirror, entry, conn);
      asked.push(entry);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === 'agent_not_active') return;
      out.failed.push({ agentId: entry.agent.id, code: e.code ?? 'kill_failed', message: e.message ?? String(err) });
    }
  }));
  const ended = async (id: string) => TERMINAL_STATES.includes((await ctx.store.mirror.get(id))?.agent.state ?? 'running');
  const allEnded = async () => (await Promise.all(asked.map((entry) => ended(entry.agent.id)))).every(Boolean);
  const deadline = Date.now() + waitMs;
  while (!(await allEnded()) && Date.now() < deadline && !ctx.closing.aborted) {
    await new Promise((resolve) => setTimeout(resolve, ENDED_POLL_MS));
  }
  await Promise.all(asked.map(async (entry) => {
    const id = entry.agent.id;
    if (!(await ended(id))) {
      try {
        const result = await ctx.messenger.send<{ agent: unknown }>(targetOf(conn), 'COMMAND', { command: 'agent.status', args: { agentId: id } }, { op: 'agent.status' });
        await mirror.record(entry.instanceId, parseRemoteAgent(result.agent));
      } catch {
        // reported below as not ended
      }
    }
    if (await ended(id)) out.killed.push(id);
    else out.failed.push({ agentId: id, code: 'kill_timeout', message: `agent '${id}' had not ended ${Math.round(waitMs / 1000)} s after its kill` });
  }));
  return out;
}

/** What `disconnect` did with this instance's agents on the peer. */
export interface DisconnectedAgents extends PeerAgentsKilled {
  /** Unfinished here after the disconnect: left running on the peer, orphaned here. */
  orphaned: string[];
}

/**
 * Ends a connection (`end`, ConnectionService.disconnect). With
 * `killAgents`, this instance's unfinished agents on the peer are killed
 * first while it can still hear about their end; any agent still unfinished
 * afterwards is orphaned here (see isGone).
 */
export async function disconnectPeer(
  ctx: FederationContext, mirror: RemoteMirror, conn: ConnectionRecord, killAgents: boolean, end: () => Promise<ConnectionRecord>,
): Promise<ConnectionRecord & { agents: DisconnectedAgents }> {
  const killed: PeerAgentsKilled = killAgents && conn.state === 'active'
    ? await killAgentsOn(ctx, mirror, conn, Math.max(15_000, 2 * ctx.config.fedTimeoutMs))
    : { killed: [], failed: [] };
  const ended = await end();
  const orphaned = (await unfinishedOn(ctx, conn.instanceId)).map((entry) => entry.agent.id);
  if (orphaned.length > 0) ctx.logger.warn({ peer: conn.instanceId, agents: orphaned }, 'disconnected with agents still running there: orphaned here');
  return { ...ended, agents: { ...killed, orphaned } };
}
