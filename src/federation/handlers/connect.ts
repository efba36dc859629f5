import { defaultGrants, hashInviteToken, isInviteTokenFormat, peerOrigin, ProtocolError, type ConnectBody, type ConnectResult } from '../protocol/index.js';
import { uniqueName } from '../connections/names.js';
import { instanceInfo, type FederationContext } from '../context.js';
import type { ConnectionRecord } from '../store/index.js';

/** Connection requests (CONNECT without a token) waiting for the admin at once. */
export const MAX_PENDING_REQUESTS = 100;

const refused = (status: number, code: string, message: string): ProtocolError => new ProtocolError(status, code, message);

/**
 * A signed CONNECT from `from` (its key already checked against its id).
 * With a token it redeems an invite; without one it is a request for the
 * admin, or the peer's acceptance of a request this instance made.
 */
export async function handleConnect(
  ctx: FederationContext, from: string, body: ConnectBody, existing: ConnectionRecord | undefined, source = 'unknown',
): Promise<ConnectResult> {
  const instance = instanceInfo(ctx.self);
  if (body.token !== undefined) return { ...(await redeem(ctx, from, body, body.token)), instance };
  const connections = ctx.store.connections;
  const expired = await expirePendingRequests(ctx);
  if (existing && expired.includes(existing.instanceId)) existing = undefined;
  if (!existing) {
    // Anyone with a key can ask; the requests waiting for the admin must not pile up without bound,
    // and one address's flood of fresh keys must not fill the slots a legitimate request needs.
    if (await ctx.store.requests.pendingFrom(source) >= ctx.config.fedPendingPerAddress) {
      throw refused(429, 'too_many_requests', 'too many connection requests from this address are waiting for this instance\'s admin');
    }
    if ((await connections.list()).filter((c) => c.state === 'pending' && c.direction === 'inbound').length >= MAX_PENDING_REQUESTS) {
      throw refused(429, 'too_many_requests', 'too many connection requests are waiting for this instance\'s admin');
    }
    await ctx.store.requests.record(from, source, Date.now());
    await connections.insert({
      url: originOf(body), publicKey: body.publicKey, instanceId: from, name: await uniqueName(connections, body.name), state: 'pending', direction: 'inbound',
      grants: defaultGrants(), peerGrants: body.grants ?? null,
    });
    ctx.logger.info({ peer: from, name: body.name }, 'federation connection requested');
    return { state: 'pending', instance };
  }
  // A repeated CONNECT never changes the stored URL, name or key: only this side's admin does
  // (`peers set --peer-url`, or a new invite). Else a peer could point this instance's signed traffic anywhere.
  switch (existing.state) {
    case 'active':
      if (body.grants) await connections.update(existing.id, { peerGrants: body.grants });
      return { state: 'active', grants: existing.grants, instance };
    case 'pending':
      if (existing.direction === 'outbound') {
        // The peer's admin accepted the request this instance sent.
        await connections.update(existing.id, { state: 'active', peerGrants: body.grants ?? null });
        ctx.wakeOutbox(from);
        return { state: 'active', grants: existing.grants, instance };
      }
      return { state: 'pending', instance };
    case 'disconnected':
      // A new request after a disconnect waits for the admin again; old grants stay until the admin decides.
      await ctx.store.requests.record(from, source, Date.now());
      await connections.update(existing.id, { state: 'pending', direction: 'inbound', peerGrants: body.grants ?? null });
      return { state: 'pending', instance };
    default:
      throw refused(403, `connection_${existing.state}`, `the connection with this peer is ${existing.state}`);
  }
}

/**
 * Forgets connection requests that waited longer than the configured TTL
 * (default 24 h) without the admin's decision; returns their instance ids.
 */
export async function expirePendingRequests(ctx: FederationContext, now = Date.now()): Promise<string[]> {
  const expired = await ctx.store.requests.expired(now - ctx.config.fedPendingTtlS * 1000);
  for (const instanceId of expired) {
    const conn = await ctx.store.connections.byInstance(instanceId);
    if (conn?.state === 'pending' && conn.direction === 'inbound') await ctx.store.connections.remove(conn.id);
    await ctx.store.requests.forget(instanceId);
  }
  if (expired.length > 0) ctx.logger.info({ expired: expired.length }, 'connection requests expired');
  return expired;
}

/** parseConnectBody checked the URL; only its origin is kept. */
function originOf(body: ConnectBody): string {
  const origin = peerOrigin(body.url);
  if (origin === undefined) throw refused(400, 'invalid_body', 'body.url must be an http(s) URL without credentials');
  return origin;
}

/** Uses an invite once, atomically: of two concurrent CONNECTs with one token, exactly one succeeds. */
function redeem(ctx: FederationContext, from: string, body: ConnectBody, token: string): Promise<Pick<ConnectResult, 'state' | 'grants'>> {
  return ctx.store.transaction(async (store) => {
    const invite = isInviteTokenFormat(token) ? await store.invites.get(hashInviteToken(token)) : undefined;
    if (!invite) throw refused(401, 'invite_invalid', 'the invite token is not known here');
    const existing = await store.connections.byInstance(from);
    if (invite.usedAt !== null) {
      // The same peer retrying after a lost answer is connected already: tell it so rather than refuse.
      if (invite.usedBy === from && existing?.state === 'active') return { state: 'active', grants: existing.grants };
      throw refused(403, 'invite_used', 'the invite token has already been used');
    }
    const now = Date.now();
    if (invite.expiresAt <= now) throw refused(403, 'invite_expired', 'the invite token has expired');
    if (!(await store.invites.markUsed(invite.tokenHash, from, now))) throw refused(403, 'invite_used', 'the invite token has already been used');
    const fields = {
      // A new invite is this side's admin's decision: redeeming it may set a new URL.
      url: originOf(body), publicKey: body.publicKey, state: 'active' as const, direction: 'inbound' as const,
      grants: invite.grants, peerGrants: body.grants ?? null,
    };
    if (existing) await store.connections.update(existing.id, fields);
    else await store.connections.insert({ ...fields, instanceId: from, name: await uniqueName(store.connections, body.name) });
    ctx.logger.info({ peer: from, name: body.name }, 'federation connection by invite');
    return { state: 'active', grants: invite.grants };
  });
}

/** A signed DISCONNECT: the peer ended the connection (or rejected this instance's request). */
export async function handleDisconnect(ctx: FederationContext, peer: ConnectionRecord, reason: string | undefined): Promise<{ state: string }> {
  const state = reason === 'rejected' && peer.state === 'pending' ? 'rejected' : 'disconnected';
  await ctx.store.connections.update(peer.id, { state });
  ctx.logger.info({ peer: peer.instanceId, state, reason }, 'federation connection ended by peer');
  return { state };
}
