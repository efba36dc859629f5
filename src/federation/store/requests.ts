import type { SqlContext } from '../../store/index.js';
import type { FederationTables } from './schema.js';

/**
 * `federation_requests`: where each pending connection request (CONNECT
 * without a token) came from, so requests can be capped per source address
 * and expired: anyone with fresh keys can ask, and one address's flood must
 * not lock the door for everyone else.
 */
export class SqlRequestStore {
  constructor(private readonly ctx: SqlContext<FederationTables>) {}

  async record(instanceId: string, source: string, at: number): Promise<void> {
    await this.ctx.db.insertInto('federation_requests').values({ instance_id: instanceId, source, created_at: at })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet((eb) => ({ source: eb.ref('excluded.source'), created_at: eb.ref('excluded.created_at') })))
      .execute();
  }

  /** Pending inbound requests from `source`. */
  async pendingFrom(source: string): Promise<number> {
    const row = await this.ctx.db.selectFrom('federation_requests as r')
      .innerJoin('federation_connections as c', 'c.instance_id', 'r.instance_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('r.source', '=', source).where('c.state', '=', 'pending').where('c.direction', '=', 'inbound')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Instance ids of pending inbound requests made before `before`. */
  async expired(before: number): Promise<string[]> {
    const rows = await this.ctx.db.selectFrom('federation_connections as c')
      .leftJoin('federation_requests as r', 'r.instance_id', 'c.instance_id')
      .select('c.instance_id')
      .where('c.state', '=', 'pending').where('c.direction', '=', 'inbound')
      .where((eb) => eb(eb.fn.coalesce('r.created_at', 'c.updated_at'), '<', before))
      .execute();
    return rows.map((r) => r.instance_id);
  }

  async forget(instanceId: string): Promise<void> {
    await this.ctx.db.deleteFrom('federation_requests').where('instance_id', '=', instanceId).execute();
  }
}
