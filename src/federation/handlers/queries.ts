import { boundedAgentList } from './bounded-agent.js';
import { instanceInfo, type FederationContext } from '../context.js';
import { pullEvents } from '../outbox/events.js';
import { checkGrant, ProtocolError, PROTOCOL_VERSION, type QueryBody } from '../protocol/index.js';
import type { ConnectionRecord } from '../store/index.js';

/** Longest a pull may wait: well inside any sensible request timeout. */
export const MAX_PULL_WAIT_MS = 25_000;

function optionalInt(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError(400, 'invalid_args', `args.${field} must be an integer from ${min} to ${max}`, { field: `args.${field}` });
  }
  return value;
}

/** QUERY from a verified, active peer: `agents` (its own), `instance`, `events` (pull). */
export async function handleQuery(ctx: FederationContext, peer: ConnectionRecord, { query, args }: QueryBody): Promise<unknown> {
  switch (query) {
    case 'agents':
      checkGrant(peer.grants, { command: 'agent.list' });
      return boundedAgentList(await ctx.agents.list({ origin: peer.instanceId }));
    case 'instance':
      return { ...instanceInfo(ctx.self), protocolVersion: PROTOCOL_VERSION, grants: peer.grants };
    case 'events': {
      const after = optionalInt(args.after, 'after', 0, Number.MAX_SAFE_INTEGER, 0);
      const waitMs = optionalInt(args.waitMs, 'waitMs', 0, MAX_PULL_WAIT_MS, 0);
      const limit = optionalInt(args.limit, 'limit', 1, 500, 100);
      const pulled = await pullEvents(ctx, peer.instanceId, after, waitMs, limit);
      if (peer.grantsVersion === 0) return pulled;
      // A hub that pulls may be one this instance cannot reach: every pull also carries the current grants (grant.changed).
      await ctx.store.connections.markGrantsNotified(peer.id, peer.grantsVersion);
      return { ...pulled, grants: { version: peer.grantsVersion, grants: peer.grants } };
    }
  }
}
