import { createCipheriv, createDecipheriv, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { sql } from '../store/kysely.js';
import { MosaicError } from '../core/errors.js';
import { identityFrom, type Identity } from '../federation/identity/index.js';
import type { SqlContext } from '../store/index.js';
import { DB_NOW_MS } from './nodes.js';
import type { ClusterTables } from './schema.js';
import { deriveKey } from './secret.js';

/** `v1.<iv>.<tag>.<ciphertext>` (base64url): the PKCS#8 DER of the key under AES-256-GCM. */
function seal(der: Buffer, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(der), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

function unseal(sealed: string, key: Buffer): Buffer {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) throw new Error('unknown sealed key format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
}

/**
 * The cluster's one identity: the first node to start makes the key and
 * stores it sealed under a key derived from the cluster secret; every node
 * (the first included) then reads the one row that won. A node with another
 * secret cannot open it: 409 `cluster_secret_mismatch`.
 */
export async function clusterIdentity(ctx: SqlContext<ClusterTables>, secret: string): Promise<Identity> {
  const key = deriveKey(secret, 'identity-seal');
  const { privateKey } = generateKeyPairSync('ed25519');
  const candidate = seal(privateKey.export({ type: 'pkcs8', format: 'der' }), key);
  await sql`INSERT INTO cluster_identity (id, sealed_key, created_at) VALUES (1, ${candidate}, ${DB_NOW_MS}) ON CONFLICT (id) DO NOTHING`.execute(ctx.db);
  const row = await ctx.db.selectFrom('cluster_identity').select('sealed_key').where('id', '=', 1).executeTakeFirstOrThrow();
  let der: Buffer;
  try {
    der = unseal(row.sealed_key, key);
  } catch {
    throw new MosaicError(409, 'cluster_secret_mismatch', 'the cluster identity in this database was sealed with another MOSAIC_CLUSTER_SECRET; every node needs the same secret');
  }
  return identityFrom(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}
