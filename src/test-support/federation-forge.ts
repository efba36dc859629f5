import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { fingerprint, rawPublicKey } from '../federation/identity/index.js';
import { encodeSigned, makeEnvelope, type Envelope, type MessageKind } from '../federation/protocol/index.js';

/** A signer for forged messages: a real key, and the instance id it certifies. */
export interface Party {
  id: string;
  raw: Buffer;
  privateKey: KeyObject;
}

export function party(): Party {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublicKey(publicKey);
  return { id: fingerprint(raw), raw, privateKey };
}

export function envelope(kind: MessageKind, from: string, to: string, body: Record<string, unknown>, extra: Partial<Envelope> = {}): Envelope {
  return { ...makeEnvelope({ kind, from, to, body }), ...extra };
}

export function sign(env: Envelope, key: KeyObject): { bytes: Buffer; signature: string } {
  return encodeSigned(env, key);
}

/** A CONNECT body announcing `who` (its key), with an optional token. */
export function connectBody(who: Party, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'stranger', url: 'http://127.0.0.1:9', publicKey: who.raw.toString('base64'), protocolVersion: '1', ...extra };
}

export const spawnArgs = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  repo: 'web', taskId: 'forged', prompt: 'p', runtime: { kind: 'command', argv: ['sh', '-c', 'sleep 30'] }, ...extra,
});
