import type { SqlContext } from '../../store/index.js';
import type { FederationTables } from './schema.js';
import type { SeenResponse } from './types.js';

/** The `federation_seen` table: the replay cache, keyed by (peer instance id, message id). */
export class SqlSeenStore {
  constructor(private readonly ctx: SqlContext<FederationTables>) {}

  async get(peer: string, messageId: string): Promise<SeenResponse | undefined> {
    const row = await this.ctx.db.selectFrom('federation_seen').select(['http_status', 'response', 'signature'])
      .where('peer', '=', peer).where('message_id', '=', messageId).executeTakeFirst();
    return row && { status: row.http_status, bytes: Buffer.from(row.response), signature: row.signature };
  }

  /** The first stored answer wins: a repeat is answered with it, never replaced. */
  async put(peer: string, messageId: string, response: SeenResponse): Promise<void> {
    await this.ctx.db.insertInto('federation_seen')
      .values({ peer, message_id: messageId, http_status: response.status, response: response.bytes, signature: response.signature, created_at: this.ctx.now() })
      .onConflict((oc) => oc.doNothing()).execute();
  }

  async prune(before: number): Promise<number> {
    const result = await this.ctx.db.deleteFrom('federation_seen').where('created_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Keeps the newest `keep` answers. A repeat of an older message is then run
   * again: agent.spawn is idempotent by its message id, EVENTs by seq, and a
   * second kill is refused, so nothing happens twice.
   */
  async cap(keep: number): Promise<number> {
    const result = await this.ctx.db.deleteFrom('federation_seen')
      .where((eb) => eb('rowid', '<=', eb.selectFrom('federation_seen').select('rowid').orderBy('rowid', 'desc').limit(1).offset(keep)))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
