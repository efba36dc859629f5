import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint, loadOrCreateIdentity, publicKeyFromRaw, rawPublicKey } from './identity.js';

/** Independent RFC 4648 base32 (lowercase, unpadded), to check fingerprint() against. */
function base32Ref(bytes: Buffer): string {
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
  const padded = bits.padEnd(Math.ceil(bits.length / 5) * 5, '0');
  return (padded.match(/.{5}/g) ?? []).map((c) => 'abcdefghijklmnopqrstuvwxyz234567'[parseInt(c, 2)]).join('');
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mosaic-identity-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('identity', () => {
  it('creates a private key 0600 in a 0700 folder, and loads the same identity again', () => {
    const dir = join(tempDir(), 'identity');
    const first = loadOrCreateIdentity(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'ed25519.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'ed25519.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');
    const again = loadOrCreateIdentity(dir);
    expect(again.instanceId).toBe(first.instanceId);
    expect(again.publicKey.equals(first.publicKey)).toBe(true);
    expect(loadOrCreateIdentity(join(tempDir(), 'identity')).instanceId).not.toBe(first.instanceId);
  });

  it('derives instanceId as base32 of the first 20 bytes of sha256(raw key)', () => {
    const id = loadOrCreateIdentity(join(tempDir(), 'identity'));
    expect(id.publicKey).toHaveLength(32);
    expect(id.publicKeyBase64).toBe(id.publicKey.toString('base64'));
    const expected = base32Ref(createHash('sha256').update(id.publicKey).digest().subarray(0, 20));
    expect(id.instanceId).toBe(expected);
    expect(id.instanceId).toMatch(/^[a-z2-7]{32}$/);
    expect(fingerprint(id.publicKey)).toBe(id.instanceId);
    expect(base32Ref(Buffer.from('foobar'))).toBe('mzxw6ytboi'); // RFC 4648 §10 vector, checks the reference itself
  });

  it('round-trips raw public keys, and the identity key signs what the raw key verifies', () => {
    const id = loadOrCreateIdentity(join(tempDir(), 'identity'));
    const key = publicKeyFromRaw(id.publicKey);
    expect(rawPublicKey(key).equals(id.publicKey)).toBe(true);
    const sig = sign(null, Buffer.from('hello'), id.privateKey);
    expect(verify(null, Buffer.from('hello'), key, sig)).toBe(true);
    expect(() => publicKeyFromRaw(Buffer.alloc(31))).toThrow();
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(rawPublicKey(other).equals(id.publicKey)).toBe(false);
  });

  it('refuses a corrupt key file instead of replacing it', () => {
    const dir = join(tempDir(), 'identity');
    loadOrCreateIdentity(dir);
    writeFileSync(join(dir, 'ed25519.pem'), 'not a key');
    expect(() => loadOrCreateIdentity(dir)).toThrow();
    expect(readFileSync(join(dir, 'ed25519.pem'), 'utf8')).toBe('not a key');
  });
});
