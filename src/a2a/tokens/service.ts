import { createHash, randomBytes } from 'node:crypto';
import { conflict, notFound } from '../../core/errors.js';
import { newAgentId } from '../../core/ids.js';
import { defaultGrants, validateGrants, type Grants } from '../../federation/index.js';
import type { A2aTokenRecord, SqlA2aTokenStore } from './store.js';

export const A2A_TOKEN_PREFIX = 'mosaic_a2a_';
const TOKEN_RE = /^mosaic_a2a_[A-Za-z0-9_-]{43}$/;

/** A token as `list` shows it: never the secret, never its hash. */
export interface A2aTokenView {
  id: string;
  grants: Grants;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface CreatedA2aToken {
  id: string;
  /** The secret, shown once: only its hash is stored. */
  token: string;
  grants: Grants;
  createdAt: number;
}

const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
const view = ({ tokenHash: _hash, ...rest }: A2aTokenRecord): A2aTokenView => rest;

/**
 * A2A client tokens (DESIGN §5): minted by the admin with grants, checked
 * exactly like a federation peer's grants (`federation/protocol/grants.ts`),
 * stored hashed. An agent one spawns has `origin: "a2a:<id>"`.
 */
export class A2aTokens {
  constructor(private readonly store: SqlA2aTokenStore, private readonly now: () => number = Date.now) {}

  /** `grants` as a peer's are given (unknown fields and bad values are 400 `invalid_grants`); fields left out take defaultGrants(). */
  async create(grants: unknown): Promise<CreatedA2aToken> {
    const checked = validateGrants(grants ?? {}, defaultGrants());
    const token = `${A2A_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const record = { id: newAgentId(), tokenHash: hashToken(token), grants: checked, createdAt: this.now() };
    await this.store.insert(record);
    return { id: record.id, token, grants: checked, createdAt: record.createdAt };
  }

  async list(): Promise<A2aTokenView[]> {
    return (await this.store.list()).map(view);
  }

  async get(id: string): Promise<A2aTokenView> {
    const record = await this.store.get(id);
    if (!record) throw notFound('token_not_found', `no A2A token '${id}'`);
    return view(record);
  }

  /** Revokes at once: the token's next request is a 401. Its agents keep running (kill them with their ids). */
  async revoke(id: string): Promise<A2aTokenView> {
    const record = await this.store.get(id);
    if (!record) throw notFound('token_not_found', `no A2A token '${id}'`);
    if (record.revokedAt !== null) throw conflict('token_revoked', `A2A token '${id}' was already revoked`, { revokedAt: record.revokedAt });
    if (!(await this.store.revoke(id, this.now()))) throw conflict('token_revoked', `A2A token '${id}' was already revoked`);
    return this.get(id);
  }

  /** The live token a presented secret is, or undefined (unknown, malformed or revoked: the caller answers 401). */
  async authenticate(presented: string): Promise<A2aTokenRecord | undefined> {
    // Looked up by hash, so the lookup's timing says nothing about how much of a guess was right.
    if (!TOKEN_RE.test(presented)) return undefined;
    const record = await this.store.byHash(hashToken(presented));
    if (!record || record.revokedAt !== null) return undefined;
    await this.store.markUsed(record.id, this.now());
    return record;
  }
}
