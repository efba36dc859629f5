import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createInviteToken, hashInviteToken, inviteTokenMatches, isInviteTokenFormat, safeEqual } from './invites.js';

describe('invite tokens', () => {
  it('creates prefixed 32-byte tokens and stores only their sha256', () => {
    const { token, tokenHash } = createInviteToken();
    expect(token).toMatch(/^mosaic_inv_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice('mosaic_inv_'.length), 'base64url')).toHaveLength(32);
    expect(tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(tokenHash).not.toContain(token.slice(11));
    expect(hashInviteToken(token)).toBe(tokenHash);
    expect(isInviteTokenFormat(token)).toBe(true);
    expect(isInviteTokenFormat(`${token}x`)).toBe(false);
    expect(isInviteTokenFormat(42)).toBe(false);
  });

  it('never repeats a token', () => {
    const seen = new Set(Array.from({ length: 200 }, () => createInviteToken().token));
    expect(seen.size).toBe(200);
  });

  it('matches a token against its stored hash only', () => {
    const a = createInviteToken();
    const b = createInviteToken();
    expect(inviteTokenMatches(a.token, a.tokenHash)).toBe(true);
    expect(inviteTokenMatches(b.token, a.tokenHash)).toBe(false);
    expect(inviteTokenMatches(a.token, a.tokenHash.slice(0, 10))).toBe(false);
  });

  it('compares strings of any length without throwing', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});
