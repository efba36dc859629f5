import type { Selectable } from 'kysely';
import { sql } from '../../store/kysely.js';
import type { SqlContext } from '../../store/index.js';
import type { FederationTables } from './schema.js';
import type { OutboxRow } from './types.js';

type Row = Selectable<FederationTables['federation_outbox']>;
const toRow = (r: Row): OutboxRow => ({ peer: r.peer, seq: r.seq, agentId: r.agent_id, attempts: r.attempts, nextAttemptAt: r.next_attempt_at });
const changed = (r: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number => Number(r.numUpdatedRows ?? r.numDeletedRows ?? 0n);

/**
 * The `federation_outbox` table: agent events owed to the peer that spawned
 * the agent. Rows are written by the trigger on `events` (see migrations.ts),
 * in the transaction of the transition itself.
 */
export class SqlOutboxStore {
  constructor(private readonly ctx: SqlContext<FederationTables>) {}

  /** The peer's undelivered rows, oldest first. */
  async pending(peer: string, limit = 100): Promise<OutboxRow[]> {
    const rows = await this.ctx.db.selectFrom('federation_outbox').selectAll()
      .where('peer', '=', peer).where('status', '=', 'pending').orderBy('seq').limit(limit).execute();
    return rows.map(toRow);
  }

  /** Peers with undelivered rows, and when the oldest of them is due (a peer's queue moves in seq order). */
  async peersWithPending(): Promise<{ peer: string; due: number }[]> {
    return this.ctx.db.selectFrom('federation_outbox as o').select(['o.peer', 'o.next_attempt_at as due'])
      .where('o.status', '=', 'pending')
      .where((eb) => eb('o.seq', '=', eb.selectFrom('federation_outbox as p').select((p) => p.fn.min('p.seq').as('m'))
        .whereRef('p.peer', '=', 'o.peer').where('p.status', '=', 'pending')))
      .execute();
  }

  /** Undelivered rows per peer (metrics: mosaic_federation_outbox_depth). */
  async depths(): Promise<{ peer: string; depth: number }[]> {
    const rows = await this.ctx.db.selectFrom('federation_outbox').select(['peer', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('status', '=', 'pending').groupBy('peer').execute();
    return rows.map((r) => ({ peer: r.peer, depth: Number(r.n) }));
  }

  async delivered(peer: string, seq: number, at: number): Promise<void> {
    await this.ctx.db.updateTable('federation_outbox').set({ status: 'delivered', delivered_at: at, attempts: sql`attempts + 1` })
      .where('peer', '=', peer).where('seq', '=', seq).execute();
  }

  /** Gives up on a row the peer refused for good, so later events are not held back by it. */
  async failed(peer: string, seq: number, error: string): Promise<void> {
    await this.ctx.db.updateTable('federation_outbox').set({ status: 'failed', last_error: error.slice(0, 500), attempts: sql`attempts + 1` })
      .where('peer', '=', peer).where('seq', '=', seq).execute();
  }

  async retryLater(peer: string, seq: number, at: number, error: string): Promise<void> {
    await this.ctx.db.updateTable('federation_outbox').set({ attempts: sql`attempts + 1`, next_attempt_at: at, last_error: error.slice(0, 500) })
      .where('peer', '=', peer).where('seq', '=', seq).execute();
  }

  /** Rows after `seq` whatever their delivery state, for a peer that pulls (QUERY events). */
  async after(peer: string, seq: number, limit: number): Promise<OutboxRow[]> {
    const rows = await this.ctx.db.selectFrom('federation_outbox').selectAll()
      .where('peer', '=', peer).where('seq', '>', seq).where('status', '<>', 'failed').orderBy('seq').limit(limit).execute();
    return rows.map(toRow);
  }

  /** Marks every pending row up to `seq` delivered: a pulling peer has them. */
  async acknowledge(peer: string, seq: number, at: number): Promise<number> {
    return changed(await this.ctx.db.updateTable('federation_outbox').set({ status: 'delivered', delivered_at: at })
      .where('peer', '=', peer).where('seq', '<=', seq).where('status', '=', 'pending').executeTakeFirst());
  }

  /** Forgets settled rows created before `before`. */
  async prune(before: number): Promise<number> {
    return changed(await this.ctx.db.deleteFrom('federation_outbox')
      .where('status', '<>', 'pending').where('created_at', '<', before).executeTakeFirst());
  }

  /** Keeps the newest `keep` settled rows; pending rows are never dropped. */
  async cap(keep: number): Promise<number> {
    return changed(await this.ctx.db.deleteFrom('federation_outbox').where('status', '<>', 'pending')
      .where((eb) => eb('rowid', '<=', eb.selectFrom('federation_outbox').select('rowid').where('status', '<>', 'pending')
        .orderBy('rowid', 'desc').limit(1).offset(keep)))
      .executeTakeFirst());
  }

  /** The seq of the oldest event still to be delivered to some peer: events from it on must be kept. */
  async oldestPendingSeq(): Promise<number | undefined> {
    const row = await this.ctx.db.selectFrom('federation_outbox').select((eb) => eb.fn.min('seq').as('seq'))
      .where('status', '=', 'pending').executeTakeFirst();
    return row?.seq === null || row?.seq === undefined ? undefined : Number(row.seq);
  }
}
