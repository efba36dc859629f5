import { createHash } from 'node:crypto';
import { sql } from '../store/kysely.js';
import type { SqlContext } from '../store/index.js';
import { DB_NOW_MS } from './nodes.js';
import type { ClusterTables } from './schema.js';

const hash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
/** A token seen valid is trusted this long without asking the database again; an unknown one is asked at most this often. */
const CACHE_MS = 5_000;

/**
 * The cluster's admin tokens: every node's token, stored as SHA-256 hashes
 * (a leaked database leaks no usable token), and each works on every node.
 */
export class ClusterAdminTokens {
  private readonly known = new Map<string, number>();
  private readonly missed = new Map<string, number>();

  constructor(private readonly ctx: SqlContext<ClusterTables>) {}

  /** Records this node's token (idempotent: a node restarting with the same home adds nothing). */
  async register(token: string, node: string): Promise<void> {
    await sql`INSERT INTO cluster_admin_tokens (token_hash, node, created_at) VALUES (${hash(token)}, ${node}, ${DB_NOW_MS})
      ON CONFLICT (token_hash) DO NOTHING`.execute(this.ctx.db);
    this.known.set(hash(token), Date.now());
  }

  /** Whether `token` is an admin token of this cluster (any node's). */
  async matches(token: string): Promise<boolean> {
    const h = hash(token);
    const now = Date.now();
    const seen = this.known.get(h);
    if (seen !== undefined && now - seen < CACHE_MS) return true;
    const missed = this.missed.get(h);
    if (missed !== undefined && now - missed < 1000) return false;
    const row = await this.ctx.db.selectFrom('cluster_admin_tokens').select('token_hash').where('token_hash', '=', h).executeTakeFirst();
    if (row === undefined) {
      if (this.missed.size > 10_000) this.missed.clear();
      this.missed.set(h, now);
      this.known.delete(h);
      return false;
    }
    this.known.set(h, now);
    return true;
  }
}
