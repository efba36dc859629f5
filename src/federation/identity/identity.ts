import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base32 } from '../../core/ids.js';

/** This instance's Ed25519 identity (DESIGN §4). */
export interface Identity {
  instanceId: string;
  /** Raw 32-byte public key. */
  publicKey: Buffer;
  publicKeyBase64: string;
  privateKey: KeyObject;
}

/** Ed25519 SPKI DER is a fixed 12-byte prefix followed by the raw 32-byte key. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function rawPublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`expected an Ed25519 key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  const der = key.export({ type: 'spki', format: 'der' });
  return Buffer.from(der.subarray(der.length - 32));
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** instanceId = base32(lowercase, unpadded) of the first 20 bytes of SHA-256(raw public key). */
export function fingerprint(rawKey: Buffer): string {
  return base32(createHash('sha256').update(rawKey).digest().subarray(0, 20));
}

/** The identity of an Ed25519 private key (a cluster's nodes share one, kept in the database: src/cluster). */
export function identityFrom(privateKey: KeyObject): Identity {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`identity key is ${privateKey.asymmetricKeyType ?? 'not asymmetric'}, not Ed25519: refusing to use it`);
  }
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  return {
    instanceId: fingerprint(publicKey),
    publicKey,
    publicKeyBase64: publicKey.toString('base64'),
    privateKey,
  };
}

/** Loads `identity/ed25519.pem`, generating it (0600, folder 0700) on first use. */
export function loadOrCreateIdentity(dir: string): Identity {
  const file = join(dir, 'ed25519.pem');
  try {
    return identityFrom(createPrivateKey(readFileSync(file, 'utf8')));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it first: use theirs, so both agree on one identity.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return identityFrom(createPrivateKey(readFileSync(file, 'utf8')));
    throw err;
  }
  chmodSync(file, 0o600);
  return identityFrom(privateKey);
}
