import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { cp, lstat, mkdir, readdir, readlink, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isValidName } from '../../core/ids.js';
import { KeyedMutex } from '../../core/mutex.js';
import { handOver, removeTree, sharedRoot, type AgentUser } from '../sandbox/index.js';

/**
 * Read-only snapshots of a main checkout's shared directory (the `lower` of
 * every agent's overlay): `$MOSAIC_HOME/shared/snapshots/<repo>/<dir key>/<signature>`.
 * An overlay's lower must not change while it is mounted, and the main
 * checkout's `node_modules` changes whenever its owner installs, so agents
 * never get the directory itself: a new snapshot is copied once when the
 * directory's signature (names, types, sizes, modes, mtimes, link targets)
 * changes, and each layer keeps pointing at the snapshot it was made over.
 * A snapshot no layer points at any more is deleted when a newer one is made.
 */

/** A short stable key for a shareDirs entry (a relative path), used as a directory name. */
export function dirKey(dir: string): string {
  return createHash('sha256').update(dir).digest('hex').slice(0, 16);
}

function snapshotsOf(home: string, repo: string, dir: string): string {
  if (!isValidName(repo)) throw new Error(`invalid repository name ${repo}`);
  return join(sharedRoot(home), 'snapshots', repo, dirKey(dir));
}

/** Digest of a directory tree's metadata: equal digests mean nothing was added, removed, resized or touched. */
export async function treeSignature(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const info = await lstat(join(root, path));
      hash.update(`${path}\0${info.mode}\0${info.size}\0${info.mtimeMs}\0`);
      if (info.isSymbolicLink()) hash.update(`${await readlink(join(root, path))}\0`);
      else if (info.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return hash.digest('hex').slice(0, 24);
}

const locks = new KeyedMutex();

/**
 * The snapshot of `source` (a real directory of the main checkout) for
 * `repo`/`dir`, made now if its content changed since the last one.
 * `inUse` lists the snapshots layers still point at (kept by the clean-up);
 * `use` runs under the same lock with the snapshot (make the layer there, so
 * no clean-up can delete the snapshot before the layer points at it).
 */
export function sharedSnapshot(home: string, repo: string, dir: string, source: string, inUse: () => Set<string>,
  use: (snapshot: string) => void = () => undefined, owner: AgentUser | null = null): Promise<string> {
  const base = snapshotsOf(home, repo, dir);
  return locks.run(base, async () => {
    const dest = join(base, await treeSignature(source));
    if (existsSync(dest)) {
      // One made before agents ran as the agent user (or with another one) is handed over once.
      if (owner !== null && (await lstat(dest)).uid !== owner.uid) await handOver([dest], owner);
      use(dest);
      return dest;
    }
    await mkdir(base, { recursive: true, mode: 0o700 });
    const tmp = join(base, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await cp(source, tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      if (owner !== null) await handOver([tmp], owner);
      await rename(tmp, dest);
    } finally {
      removeTree(tmp);
    }
    const used = inUse();
    for (const name of readdirSync(base)) {
      const old = join(base, name);
      if (old !== dest && !name.startsWith('.tmp-') && !used.has(old)) removeTree(old);
    }
    use(dest);
    return dest;
  });
}

/** Deletes a repository's snapshots (it is being unregistered; its pooled worktrees are gone). */
export function dropSnapshots(home: string, repo: string): void {
  if (isValidName(repo)) removeTree(join(sharedRoot(home), 'snapshots', repo));
}

/** Where a layer's `lower` link points, or null. */
export function lowerOf(layerDir: string): string | null {
  try {
    return readlinkSync(join(layerDir, 'lower'));
  } catch {
    return null;
  }
}
