import { invalid } from '../core/errors.js';

/**
 * Validation of branch names and refs given by users, done before any git
 * process sees them. It follows git's check_refname_format rules and in
 * addition refuses a leading '-', so a value can never be read as an option
 * (`--upload-pack=x`, `-b`), whatever position it lands in. Commands also put
 * `--end-of-options`/`--` before positional values as a second guard.
 */

// Control characters, space, and the characters git forbids in ref names.
const FORBIDDEN = /[\x00-\x20\x7f~^:?*[\\]/;
const MAX_REF_LENGTH = 255;

export function isValidRefName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_REF_LENGTH) return false;
  if (name.startsWith('-')) return false;
  if (FORBIDDEN.test(name)) return false;
  if (name.includes('..') || name.includes('@{') || name === '@') return false;
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//') || name.endsWith('.')) return false;
  return name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
}

/** A name git accepts for a new local branch (`refs/heads/<name>`). */
export function isValidBranchName(name: unknown): name is string {
  return isValidRefName(name) && name !== 'HEAD' && !name.startsWith('refs/');
}

/**
 * The branches Mosaic writes for agents' work: `agent-<agentId>-<taskId>`,
 * both parts names without '/' (core/ids.ts). Work that comes from elsewhere
 * (a peer's bundle) is written only under such a name, so it can never move
 * a user's branch, a tag or anything outside refs/heads/agent-*.
 */
export function isAgentBranchName(name: unknown): name is string {
  return isValidBranchName(name) && /^agent-[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name);
}

function codeFor(field: string): string {
  return `invalid_${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** Throws 400 `invalid_<field>` (snake case) unless `value` is a valid branch name. */
export function assertBranchName(field: string, value: unknown): string {
  if (!isValidBranchName(value)) {
    throw invalid(codeFor(field), `${field} is not a valid branch name`, { field });
  }
  return value;
}

/** Throws 400 `invalid_<field>` unless `value` is a ref name (branch, tag, remote branch, HEAD or sha). */
export function assertRefName(field: string, value: unknown): string {
  if (!isValidRefName(value)) {
    throw invalid(codeFor(field), `${field} is not a valid git ref name`, { field });
  }
  return value;
}
