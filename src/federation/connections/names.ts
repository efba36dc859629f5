import { isValidName } from '../../core/ids.js';
import { INSTANCE_ID_RE } from '../protocol/index.js';
import type { SqlConnectionStore } from '../store/index.js';

/** A peer-announced name made into a connection name (NAME_PATTERN), so it can be used like repo names in the CLI. */
export function sanitizeName(raw: string): string {
  let name = raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.{2,}/g, '.').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56);
  name = name.replace(/[^A-Za-z0-9]+$/, '');
  // A name shaped like an instance id could be mistaken for another peer's id.
  if (INSTANCE_ID_RE.test(name)) name = `peer-${name.slice(0, 8)}`;
  return isValidName(name) ? name : 'peer';
}

/**
 * A free connection name based on what the peer calls itself: `spoke`, then
 * `spoke-2`, ... `exceptId` keeps a connection's own current name available to it.
 */
export async function uniqueName(connections: SqlConnectionStore, wanted: string, exceptId?: string): Promise<string> {
  const base = sanitizeName(wanted);
  for (let i = 1; ; i += 1) {
    const candidate = i === 1 ? base : `${base}-${i}`;
    const holder = await connections.byName(candidate);
    if (!holder || holder.id === exceptId) return candidate;
  }
}
