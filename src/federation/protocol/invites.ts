import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const INVITE_PREFIX = 'mosaic_inv_';
/** DESIGN §4: invites live 15 minutes unless the admin says otherwise. */
export const DEFAULT_INVITE_TTL_S = 15 * 60;
const INVITE_RE = /^mosaic_inv_[A-Za-z0-9_-]{43}$/;

/**
 * A new single-use invite token and the hash to store. Only the hash is
 * persisted, so a leaked database does not leak usable invites; looking an
 * invite up by the hash of the presented token also keeps the lookup's timing
 * independent of how much of a guessed token is right.
 */
export function createInviteToken(): { token: string; tokenHash: string } {
  const token = `${INVITE_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, tokenHash: hashInviteToken(token) };
}

/** Hex SHA-256 of the token as presented. */
export function hashInviteToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isInviteTokenFormat(token: unknown): token is string {
  return typeof token === 'string' && INVITE_RE.test(token);
}

/** Constant-time string equality; strings of different lengths compare unequal without an early exit on content. */
export function safeEqual(a: string, b: string): boolean {
  // Hashing first gives equal-length inputs, as timingSafeEqual requires, and hides the length.
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Whether `token` is the one whose hash was stored. */
export function inviteTokenMatches(token: string, tokenHash: string): boolean {
  return safeEqual(hashInviteToken(token), tokenHash);
}
