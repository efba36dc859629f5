import type { SqliteDatabase } from '../../store/sqlite/index.js';
import type { Grants } from '../protocol/index.js';
import type { InviteRecord } from './types.js';

interface InviteRow {
  token_hash: string;
  grants: string;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
  created_at: number;
}

function toRecord(row: InviteRow): InviteRecord {
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
export class SqliteInviteStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly useStmt;
  private readonly pruneStmt;

  constructor(db: SqliteDatabase) {
    this.insertStmt = db.prepare<[string, string, number, number]>(
      'INSERT INTO federation_invites (token_hash, grants, expires_at, created_at) VALUES (?, ?, ?, ?)');
    this.getStmt = db.prepare<[string], InviteRow>('SELECT * FROM federation_invites WHERE token_hash = ?');
    // The `used_at IS NULL` guard makes using a token a compare-and-set: of two concurrent uses, one wins.
    this.useStmt = db.prepare<[number, string, string]>(
      'UPDATE federation_invites SET used_at = ?, used_by = ? WHERE token_hash = ? AND used_at IS NULL');
    this.pruneStmt = db.prepare<[number]>('DELETE FROM federation_invites WHERE expires_at < ?');
  }

  insert(tokenHash: string, grants: Grants, expiresAt: number, createdAt: number): void {
    this.insertStmt.run(tokenHash, JSON.stringify(grants), expiresAt, createdAt);
  }

  get(tokenHash: string): InviteRecord | undefined {
    const row = this.getStmt.get(tokenHash);
    return row && toRecord(row);
  }

  /** Marks the invite used; false when it was already used (or does not exist). */
  markUsed(tokenHash: string, by: string, at: number): boolean {
    return this.useStmt.run(at, by, tokenHash).changes === 1;
  }

  /** Forgets invites that expired before `before`. */
  prune(before: number): number {
    return this.pruneStmt.run(before).changes;
  }
}
