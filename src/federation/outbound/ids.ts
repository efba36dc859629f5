import { createHash } from 'node:crypto';

/**
 * A UUID (version 5 layout) determined by `parts`. The outbox uses it so the
 * EVENT for one event seq carries the same message id on every attempt,
 * across restarts: a receiver recognises a redelivery by its id.
 */
export function deterministicUuid(...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000'), 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
