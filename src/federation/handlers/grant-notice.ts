import type { FederationContext } from '../context.js';
import type { GrantNoticeBody } from '../protocol/index.js';
import type { ConnectionRecord } from '../store/index.js';

/**
 * EVENT `grant.changed` from a verified, active peer: what that peer now lets
 * THIS instance do there. It only updates this side's informational copy
 * (`peerGrants` of that peer's own connection, with when it was learned):
 * what the peer may do HERE (`grants`) is this side's admin's alone, and no
 * message can touch it. A notice older than the one applied is ignored, so a
 * late retry never brings back a grant that was changed since.
 */
export async function applyGrantNotice(ctx: FederationContext, peer: ConnectionRecord, notice: GrantNoticeBody): Promise<{ applied: boolean }> {
  if (notice.version <= peer.peerGrantsVersion) return { applied: false };
  await ctx.store.connections.update(peer.id, { peerGrants: notice.grants, peerGrantsVersion: notice.version });
  ctx.logger.info({ peer: peer.instanceId, name: peer.name, grants: notice.grants }, 'peer changed what this instance may do there');
  return { applied: true };
}
