import { sign, verify, type KeyObject } from 'node:crypto';
import { publicKeyFromRaw } from '../identity/index.js';
import type { Envelope } from './envelope.js';

/** `ed25519=` + unpadded base64url of a 64-byte signature (86 characters). */
const HEADER_RE = /^ed25519=([A-Za-z0-9_-]{86})$/;

/** The `Mosaic-Signature` header value for `bytes`. */
export function signBytes(privateKey: KeyObject, bytes: Buffer): string {
  return `ed25519=${sign(null, bytes, privateKey).toString('base64url')}`;
}

/**
 * True only if `header` is exactly one well-formed Ed25519 signature of
 * `bytes` by `publicKeyRaw`. Never throws: every malformed input is simply
 * not a valid signature.
 */
export function verifyBytes(publicKeyRaw: Buffer, bytes: Buffer, header: string | undefined): boolean {
  if (typeof header !== 'string') return false;
  const match = HEADER_RE.exec(header);
  if (!match?.[1]) return false;
  const signature = Buffer.from(match[1], 'base64url');
  // 86 base64url characters carry 516 bits; only the canonical spelling (last
  // 4 bits zero) is accepted, so one signature has one header value.
  if (signature.length !== 64 || signature.toString('base64url') !== match[1]) return false;
  try {
    return verify(null, bytes, publicKeyFromRaw(publicKeyRaw), signature);
  } catch {
    return false;
  }
}

/**
 * Serialises `envelope` once and signs those bytes. Send `bytes` as they are:
 * the signature covers them exactly, never a re-serialisation.
 */
export function encodeSigned(envelope: Envelope, privateKey: KeyObject): { bytes: Buffer; signature: string } {
  const bytes = Buffer.from(JSON.stringify(envelope), 'utf8');
  return { bytes, signature: signBytes(privateKey, bytes) };
}
