import type { AgentState } from '../../core/agent-model.js';
import { targetOf, type FederationContext } from '../context.js';
import type { ConnectionRecord } from '../store/index.js';

const ACTIVE_STATES: AgentState[] = ['queued', 'spawning', 'running'];

/**
 * Keeps the hub's knowledge of its peers current where it matters: a peer
 * running agents this instance spawned, and not heard from for half the
 * staleness window, gets a signed QUERY `instance` (answered by any active
 * peer, no grant needed). Its answer (or failure) updates the peer's contact
 * through the messenger, so `list --all` can mark the agents of a peer that
 * went away instead of showing their last state as if it were current.
 * Pull peers need no probe: their long poll is contact enough.
 */
export class PeerProber {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<string>();
  /** A scan is running: a tick meanwhile adds nothing. */
  private scanning = false;
  private readonly abort = new AbortController();

  constructor(private readonly ctx: FederationContext) {}

  private get staleMs(): number {
    return this.ctx.config.fedStaleS * 1000;
  }

  start(): void {
    const tickMs = Math.min(30_000, Math.max(250, Math.floor(this.staleMs / 4)));
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
  }

  tick(): void {
    if (this.abort.signal.aborted || this.scanning) return;
    this.scanning = true;
    void this.scan()
      .catch((err: unknown) => this.ctx.logger.error({ err }, 'peer probe scan failed'))
      .finally(() => { this.scanning = false; });
  }

  private async scan(): Promise<void> {
    const now = Date.now();
    for (const conn of await this.ctx.store.connections.list()) {
      if (conn.state !== 'active' || conn.pull || this.inFlight.has(conn.instanceId)) continue;
      const { lastContactAt } = this.ctx.contacts.get(conn.instanceId);
      if (lastContactAt !== null && now - lastContactAt < this.staleMs / 2) continue;
      if ((await this.ctx.store.mirror.list({ instanceId: conn.instanceId, state: ACTIVE_STATES })).length === 0) continue;
      this.probe(conn);
    }
  }

  private probe(conn: ConnectionRecord): void {
    this.inFlight.add(conn.instanceId);
    const timeoutMs = Math.min(this.ctx.config.fedTimeoutMs, Math.max(1000, this.staleMs / 2));
    void this.ctx.messenger.send(targetOf(conn), 'QUERY', { query: 'instance' }, { op: 'instance', retries: 0, timeoutMs, signal: this.abort.signal })
      .catch(() => { /* recorded by the messenger as the peer's contact state */ })
      .finally(() => this.inFlight.delete(conn.instanceId));
  }
}
