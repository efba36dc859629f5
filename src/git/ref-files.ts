import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoLayout } from './layout.js';
import { resolveReal } from './paths.js';

/**
 * Whether a local branch exists, read from the repository's ref files rather
 * than asked of a git process: `GET /agents/:id` answers it on every call,
 * and a client polling an agent every few milliseconds would otherwise start
 * a git process each time, beside the checkouts it is waiting for.
 *
 * Only the files-backend layout git has always used is read: a loose ref
 * file, then `packed-refs` (in this order: `pack-refs` writes the packed
 * file before it deletes the loose one, so a ref being packed is never
 * missed). Anything else — a reftable repository, a ref file that is not a
 * regular file, an unreadable file — answers `unknown`, and the caller asks git.
 * The common dir is the operator's repository, never agent-writable (agents
 * commit through a private git dir), and nothing here is followed or written.
 */
export async function localBranchOnDisk(repoPath: string, branch: string): Promise<'present' | 'absent' | 'unknown'> {
  let commonDir: string;
  try {
    commonDir = (await repoLayout(resolveReal(repoPath))).commonDir;
  } catch {
    return 'unknown';
  }
  const ref = `refs/heads/${branch}`;
  const loose = kindOf(join(commonDir, ref));
  if (loose === 'file') return 'present';
  if (loose === 'other') return 'unknown';
  if (kindOf(join(commonDir, 'reftable')) !== 'none') return 'unknown';
  const packedPath = join(commonDir, 'packed-refs');
  const packed = kindOf(packedPath);
  if (packed === 'none') return 'absent';
  if (packed === 'other') return 'unknown';
  let text: string;
  try {
    text = readFileSync(packedPath, 'utf8');
  } catch {
    return 'unknown';
  }
  // Lines are `<id> <refname>`, plus `^<id>` peeled lines and a `#` header.
  return text.split('\n').some((line) => line.endsWith(` ${ref}`) && !line.startsWith('#') && !line.startsWith('^')) ? 'present' : 'absent';
}

function kindOf(path: string): 'file' | 'none' | 'other' {
  try {
    return lstatSync(path).isFile() ? 'file' : 'other';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'none' : 'other';
  }
}
