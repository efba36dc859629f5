import type { Selectable } from 'kysely';
import type { SqlContext } from '../../store/index.js';
import type { Grants } from '../protocol/index.js';
import type { FederationTables } from './schema.js';
import type { InviteRecord } from './types.js';

function toRecord(row: Selectable<FederationTables['federation_invites']>): InviteRecord {
  return {
    tokenHash: row.token_hash,
    grants: JSON.parse(row.grants) as Grants,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    usedBy: row.used_by,
    createdAt: row.created_at,
  };
}

/** The `federation_invites` table. Tokens are looked up by their hash only. */
export class SqlInviteStore {
  constructor(private readonly ctx: SqlContext<FederationTables>) {}

  async insert(tokenHash: string, grants: Grants, expiresAt: number, createdAt: number): Promise<void> {
    await this.ctx.db.insertInto('federation_invites')
      .values({ token_hash: tokenHash, grants: JSON.stringify(grants), expires_at: expiresAt, created_at: createdAt }).execute();
  }

  async get(tokenHash: string): Promise<InviteRecord | undefined> {
    const row = await this.ctx.db.selectFrom('federation_invites').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Marks the invite used; false when it was already used (or does not
   * exist). The `used_at IS NULL` guard makes using a token a
   * compare-and-set: of two concurrent uses, from any process, one wins.
   */
  async markUsed(tokenHash: string, by: string, at: number): Promise<boolean> {
    const result = await this.ctx.db.updateTable('federation_invites').set({ used_at: at, used_by: by })
      .where('token_hash', '=', tokenHash).where('used_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Forgets invites that expired before `before`. */
  async prune(before: number): Promise<number> {
    const result = await this.ctx.db.deleteFrom('federation_invites').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
