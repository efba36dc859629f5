/**
 * When this instance last heard from each peer, and since when it cannot
 * reach one: every verified message from the peer and every verified answer
 * to a message sent to it is contact; a send that fails (unreachable, timed
 * out, a 5xx, an answer that does not verify) marks the peer unreachable
 * until the next contact. Kept in memory: after a restart nothing is known
 * until the peer is heard from or probed (remote/prober.ts).
 */
export interface PeerContact {
  /** Last verified message or answer from the peer (ms), null when none since this server started. */
  lastContactAt: number | null;
  /** First failed send since the last contact, null when the last exchange worked. */
  unreachableSince: number | null;
  /** Why the last send failed. */
  error: string | null;
}

export class PeerContacts {
  private readonly byPeer = new Map<string, PeerContact>();

  private readonly startedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  get(instanceId: string): PeerContact {
    return { ...(this.byPeer.get(instanceId) ?? { lastContactAt: null, unreachableSince: null, error: null }) };
  }

  heard(instanceId: string): void {
    this.byPeer.set(instanceId, { lastContactAt: this.now(), unreachableSince: null, error: null });
  }

  failed(instanceId: string, error: string): void {
    const known = this.get(instanceId);
    this.byPeer.set(instanceId, { ...known, unreachableSince: known.unreachableSince ?? this.now(), error: error.slice(0, 300) });
  }

  forget(instanceId: string): void {
    this.byPeer.delete(instanceId);
  }

  /**
   * Whether what this instance mirrors of the peer may be out of date: it
   * cannot reach the peer, or has not heard from it for `staleMs` (counted
   * from this server's start when nothing was heard since: a suspended or
   * disconnected peer is never probed, so its silence is all there is to go by).
   */
  isStale(instanceId: string, staleMs: number): boolean {
    const contact = this.get(instanceId);
    if (contact.unreachableSince !== null) return true;
    return this.now() - (contact.lastContactAt ?? this.startedAt) > staleMs;
  }
}
