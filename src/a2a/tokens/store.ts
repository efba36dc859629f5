import type { Kysely, Selectable } from 'kysely';
import type { Grants } from '../../federation/index.js';
import type { CoreTables, SqlContext, SqlStore } from '../../store/index.js';

/** An A2A client token as stored: never the secret, only its hash. */
export interface A2aTokenRecord {
  id: string;
  tokenHash: string;
  grants: Grants;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** The A2A tables as the query layer sees them (conventions of store/sql/schema.ts). */
export interface A2aTables extends CoreTables {
  a2a_tokens: {
    id: string;
    token_hash: string;
    grants: string;
    created_at: number;
    last_used_at: number | null;
    revoked_at: number | null;
  };
}

function toRecord(row: Selectable<A2aTables['a2a_tokens']>): A2aTokenRecord {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    grants: JSON.parse(row.grants) as Grants,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** `last_used_at` is written at most this often per token: a busy client must not turn every read into a write. */
const USED_EVERY_MS = 60_000;

/** The `a2a_tokens` table (migration 300), on the core store's executor (SQLite or PostgreSQL). A presented token is looked up by its hash only. */
export class SqlA2aTokenStore {
  private readonly ctx: SqlContext<A2aTables>;

  constructor(store: SqlStore) {
    // The same executor, typed with the A2A table besides the core's (its migration ran with the core's).
    this.ctx = { ...store.sql, db: store.sql.db as unknown as Kysely<A2aTables> };
  }

  async insert(record: Omit<A2aTokenRecord, 'lastUsedAt' | 'revokedAt'>): Promise<void> {
    await this.ctx.db.insertInto('a2a_tokens')
      .values({ id: record.id, token_hash: record.tokenHash, grants: JSON.stringify(record.grants), created_at: record.createdAt }).execute();
  }

  async byHash(tokenHash: string): Promise<A2aTokenRecord | undefined> {
    const row = await this.ctx.db.selectFrom('a2a_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toRecord(row);
  }

  async get(id: string): Promise<A2aTokenRecord | undefined> {
    const row = await this.ctx.db.selectFrom('a2a_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(): Promise<A2aTokenRecord[]> {
    return (await this.ctx.db.selectFrom('a2a_tokens').selectAll().orderBy('created_at').orderBy('id').execute()).map(toRecord);
  }

  /** False when there is no such token or it was already revoked (a compare-and-set: of two revokes, one wins). */
  async revoke(id: string, at: number): Promise<boolean> {
    const result = await this.ctx.db.updateTable('a2a_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async markUsed(id: string, at: number): Promise<void> {
    await this.ctx.db.updateTable('a2a_tokens').set({ last_used_at: at }).where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at - USED_EVERY_MS)])).execute();
  }
}
