import { hkdfSync } from 'node:crypto';

/** Shortest cluster secret accepted: 32 characters (e.g. `openssl rand -base64 32`). */
export const MIN_SECRET_LENGTH = 32;

/**
 * A 32-byte key for one purpose, derived from the cluster secret (HKDF-SHA256):
 * the secret itself is never sent nor stored, and a key for one purpose (node
 * authentication) says nothing about another (sealing the identity).
 */
export function deriveKey(secret: string, purpose: 'node-auth' | 'identity-seal'): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('mosaic-cluster'), Buffer.from(purpose), 32));
}
