import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawPublicKey } from '../identity/index.js';
import { makeEnvelope } from './envelope.js';
import { encodeSigned, signBytes, verifyBytes } from './signing.js';

const keys = generateKeyPairSync('ed25519');
const raw = rawPublicKey(keys.publicKey);
const other = rawPublicKey(generateKeyPairSync('ed25519').publicKey);
const bytes = Buffer.from('{"hello":"world"}');

describe('signing', () => {
  it('signs into an ed25519= header that verifies only for the same key and bytes', () => {
    const header = signBytes(keys.privateKey, bytes);
    expect(header).toMatch(/^ed25519=[A-Za-z0-9_-]{86}$/);
    expect(verifyBytes(raw, bytes, header)).toBe(true);
    expect(verifyBytes(other, bytes, header)).toBe(false);
    expect(verifyBytes(raw, Buffer.from('{"hello":"world!"}'), header)).toBe(false);
  });

  it('returns false, never throws, for malformed headers and keys', () => {
    const header = signBytes(keys.privateKey, bytes);
    const sig = header.slice('ed25519='.length);
    const bad: Array<string | undefined> = [
      undefined, '', 'ed25519=', sig, `ED25519=${sig}`, `rsa=${sig}`, ` ${header}`, `${header} `, `${header},${header}`,
      `ed25519=${sig.slice(0, -1)}`, `ed25519=${sig}A`, `ed25519=${Buffer.from(sig, 'base64url').toString('base64')}`,
      // Same 64 bytes, non-canonical final character (low bits set).
      `ed25519=${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : String.fromCharCode(sig.charCodeAt(sig.length - 1) ^ 1)}`,
    ];
    for (const h of bad) expect({ h, ok: verifyBytes(raw, bytes, h) }).toEqual({ h, ok: false });
    expect(verifyBytes(Buffer.alloc(31), bytes, header)).toBe(false);
    expect(verifyBytes(Buffer.alloc(32), bytes, header)).toBe(false);
  });

  it('encodeSigned signs exactly the bytes it returns', () => {
    const env = makeEnvelope({ kind: 'EVENT', from: 'a'.repeat(32), to: 'b'.repeat(32), body: { event: 'agent.state', agent: { id: 'x' } } });
    const { bytes: out, signature } = encodeSigned(env, keys.privateKey);
    expect(JSON.parse(out.toString())).toEqual(env);
    expect(verifyBytes(raw, out, signature)).toBe(true);
  });
});
