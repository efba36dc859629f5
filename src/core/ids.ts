import { randomBytes, randomUUID } from 'node:crypto';
import { invalid } from './errors.js';

/**
 * Names of repositories, task ids and agent ids. The leading character may not
 * be `-` or `.`, so a name can never be read as a git option or a relative
 * path component, and `/` is excluded so it is always one path segment.
 */
export const NAME_PATTERN = '^(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const NAME_RE = new RegExp(NAME_PATTERN);
/** What NAME_PATTERN allows, in words (error messages say this, never the pattern). */
export const NAME_RULE = "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'";

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_RE.test(value);
}

/** Throws a typed 400 naming the field when `value` is not a valid name. */
export function assertName(field: string, value: unknown): string {
  if (!isValidName(value)) {
    throw invalid(`invalid_${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`,
      `${field} must be ${NAME_RULE}`, { field });
  }
  return value;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** Lowercase RFC 4648 base32 without padding. */
export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Agent ids: 10 base32 characters (50 random bits), short enough for branch names. */
/**
 * What an agent id Mosaic makes looks like: lowercase letters and digits
 * (newAgentId), so `agent-<id>-<task>` splits one way only. Ids a peer
 * reports are held to it: a peer cannot pick an id whose branch is another
 * agent's (`a-b` + task `c` against `a` + task `b-c`).
 */
export const AGENT_ID_PATTERN = '^[a-z0-9]{1,64}$';
const AGENT_ID_RE = new RegExp(AGENT_ID_PATTERN);

export function isAgentId(value: unknown): value is string {
  return typeof value === 'string' && AGENT_ID_RE.test(value);
}

export function newAgentId(): string {
  return base32(randomBytes(7)).slice(0, 10);
}

export function newMessageId(): string {
  return randomUUID();
}
