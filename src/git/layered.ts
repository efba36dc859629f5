import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { KeyedMutex } from '../core/mutex.js';
import { BASES_DIR, baseChain, baseDir, baseLayers, basesByLastUse, buildBase, touchBase, type LayerOwner } from './layered-bases.js';
import { isMountPoint, mountOverlay, unmountOverlay } from './overlay-mount.js';
import { privateGitDir } from './owner.js';
import { listNames, readText } from './quiet-fs.js';

/**
 * Layered worktrees: a checkout made once per base commit, shared by every
 * worktree made from that commit, each seeing it through an overlay mount
 * of its own (DESIGN §3 "Worktrees"; issue 24).
 *
 * A checkout of a large repository is the whole cost of a spawn, and fifty
 * of them at once contend in the kernel: side by side they are slower than
 * one after another. Here the files of commit C are written once, into
 * `<managed root>/.bases/C/` (a full tree, or a diff on an earlier base:
 * layered-bases.ts; with an index beside it); a new worktree at C is git's
 * registration (admin entry, branch, HEAD) plus an overlay mounted on its
 * directory: lower = the base's layers (`lower0`, `lower1`, … links in the
 * layer; never written through the mount), upper =
 * `<managed root>/.layers/<name>/upper`, where
 * everything the agent changes, adds or deletes lands. The base's index is
 * the worktree's index: an unchanged file shows the base file's inode,
 * times, owner and size through the overlay, so git sees the worktree
 * clean without reading a file.
 *
 * Invariants:
 * - The worktree's `.git` file lives in the upper only. Not mounted (after a
 *   reboot, before `remount`), the directory is an empty directory and not a
 *   worktree to git: a snapshot or diff fails (`not_a_worktree`) rather than
 *   seeing every file deleted. The admin entry is locked, so `git worktree
 *   prune` keeps it meanwhile.
 * - Base trees belong to the agent user (an agent writes through the
 *   overlay with its own uid: the kernel checks the lower file's owner) and
 *   are reachable by no sandbox (the managed root is never bound); a base is
 *   deleted only when idle, not the newest, named by no layer, and below no
 *   base that is kept.
 * - `.bases` and `.layers` are never worktree names (a name starts with a
 *   letter or digit), nor is `.trash`.
 * - Only root mounts (the host's mount namespace, where every host-side
 *   reader sees the merged tree); the caller falls back to a full checkout
 *   when the mount fails (no overlay, an upper on an overlay, a container).
 */

export { BASES_DIR, isMountPoint, type LayerOwner };
export const LAYERS_DIR = '.layers';
/** The reason written in a layered worktree's `locked` file (git shows it in `worktree list`). */
export const LAYERED_LOCK_REASON = 'mosaic: layered worktree, its files are an overlay mount';

/** A base left unused this long (and not the newest) is deleted. */
const BASE_IDLE_MS = 10 * 60_000;

/** The layer directory of the worktree at `target` (directly in `root`), null when it is a plain checkout. */
export function layerOf(root: string, target: string): string | null {
  const layer = join(root, LAYERS_DIR, basename(target));
  return existsSync(join(layer, 'upper')) ? layer : null;
}

/** The upper layer of the layered worktree at `target` when it is mounted, else null. */
export function mountedUpper(root: string, target: string): string | null {
  const layer = layerOf(root, target);
  return layer !== null && isMountPoint(target) ? join(layer, 'upper') : null;
}

/** The layer's links to its base's layers, top first: `lower0`, `lower1`, … */
function lowerLinks(layer: string): string[] {
  return listNames(layer).filter((name) => /^lower\d+$/.test(name)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
}

/** Mounts the layer directory's overlay on `target`; the options name the layers relative to it (no host path is parsed as an option). */
async function mount(layer: string, target: string): Promise<void> {
  const lowers = lowerLinks(layer);
  if (lowers.length === 0) throw new Error(`${layer} names no base`);
  await mountOverlay('mosaic-worktree', `lowerdir=${lowers.join(':')},upperdir=upper,workdir=work,redirect_dir=on`, target, layer);
}

export class LayeredWorktrees {
  /** Base creation and deletion, one at a time per managed root. */
  private readonly bases = new KeyedMutex();

  constructor(private readonly owner: LayerOwner, private readonly timeoutMs: number, private readonly baseIdleMs = BASE_IDLE_MS) {}

  /** Managed roots where an overlay could not be mounted: their worktrees are full checkouts. */
  private readonly unavailable = new Set<string>();

  /**
   * mount(), or false where layered worktrees cannot be made (the worktree
   * then needs a checkout): the first failure in a managed root, told to
   * `onUnavailable`, turns them off there.
   */
  async tryMount(repo: string, root: string, target: string, commit: string, onUnavailable: (root: string, reason: string) => void): Promise<boolean> {
    if (this.unavailable.has(root)) return false;
    try {
      await this.mount(repo, root, target, commit);
      return true;
    } catch (err) {
      this.unavailable.add(root);
      onUnavailable(root, err instanceof Error ? err.message : String(err));
      return false;
    }
  }

  /**
   * Turns the just-registered worktree at `target` (its `.git` file only) into
   * a layered one at `commit`: base made if needed, layer, index, overlay.
   * On failure nothing of the layer is left and `target` is as it was.
   */
  async mount(repo: string, root: string, target: string, commit: string): Promise<void> {
    const adminDir = privateGitDir(target);
    if (adminDir === null) throw new Error(`${target} is not a linked worktree`);
    const layer = join(root, LAYERS_DIR, basename(target));
    try {
      const layers = await this.bases.run(root, async () => {
        const made = await this.ensureBase(repo, root, commit);
        // What an earlier worktree of this name left (a removal cut short) is not this one's: a fresh layer.
        rmSync(layer, { recursive: true, force: true });
        // The layer names its base before the mount, under the same lock as the deletion of unused bases.
        mkdirSync(join(layer, 'upper'), { recursive: true, mode: 0o755 });
        mkdirSync(join(layer, 'work'), { mode: 0o700 });
        writeFileSync(join(layer, 'base'), `${commit}\n`);
        return made;
      });
      layers.forEach((dir, i) => symlinkSync(dir, join(layer, `lower${i}`)));
      copyFileSync(join(baseDir(root, commit), 'index'), join(adminDir, 'index'));
      writeFileSync(join(adminDir, 'locked'), `${LAYERED_LOCK_REASON}\n`);
      renameSync(join(target, '.git'), join(layer, 'upper', '.git'));
      try {
        await mount(layer, target);
      } catch (err) {
        renameSync(join(layer, 'upper', '.git'), join(target, '.git'));
        throw err;
      }
    } catch (err) {
      rmSync(join(adminDir, 'locked'), { force: true });
      rmSync(join(adminDir, 'index'), { force: true });
      rmSync(layer, { recursive: true, force: true });
      throw err;
    }
  }

  /** The layers of base `commit`, top first, made now when there is none (layered-bases.ts). */
  private async ensureBase(repo: string, root: string, commit: string): Promise<string[]> {
    let layers = baseLayers(root, commit);
    if (layers !== null) {
      touchBase(root, commit);
      return layers;
    }
    // A build renames its directory into place only when done, so one there now is broken below (a layer
    // under it gone): set aside, never deleted here, as a mounted worktree may still stack it.
    if (existsSync(baseDir(root, commit))) renameSync(baseDir(root, commit), join(root, BASES_DIR, `.broken-${commit}-${randomBytes(4).toString('hex')}`));
    await buildBase(repo, root, commit, this.owner, this.timeoutMs);
    layers = baseLayers(root, commit);
    if (layers === null) throw new Error(`base ${commit} was made but is not ready`);
    return layers;
  }

  /**
   * Unmounts a removed worktree's overlay and returns its layer directory
   * (to delete: the agent wrote its upper), or null for a plain checkout.
   */
  async detach(root: string, target: string): Promise<string | null> {
    const layer = layerOf(root, target);
    if (layer === null) return null;
    await unmountOverlay(target);
    return layer;
  }

  /**
   * Mounts again every layered worktree of `root` that is not mounted (a
   * reboot unmounts them all); returns the worktrees it could not mount.
   */
  async remount(root: string): Promise<string[]> {
    const failed: string[] = [];
    for (const name of listNames(join(root, LAYERS_DIR))) {
      const target = join(root, name);
      const layer = join(root, LAYERS_DIR, name);
      if (!existsSync(target) || isMountPoint(target) || !existsSync(join(layer, 'upper', '.git'))) continue;
      try {
        await mount(layer, target);
      } catch {
        failed.push(target);
      }
    }
    return failed;
  }

  /** Deletes (through `discard`) bases no layer names, but the newest, once idle; and base builds a crash left. */
  async collect(root: string, discard: (path: string) => void): Promise<void> {
    await this.bases.run(root, async () => {
      const basesDir = join(root, BASES_DIR);
      // `.gone-*`: being deleted already; `.broken-*`: set aside (ensureBase), kept.
      const aged = basesByLastUse(root).filter(({ name }) => !name.startsWith('.gone-') && !name.startsWith('.broken-'));
      if (aged.length <= 1) return;
      const used = new Set(listNames(join(root, LAYERS_DIR)).map((name) => readText(join(root, LAYERS_DIR, name, 'base'))?.trim()));
      const newest = aged.find((b) => !b.name.startsWith('.tmp-'))?.name;
      const now = Date.now();
      // A base stays with every base below it: the newest, those a worktree stands on, those used lately.
      const kept = new Set<string>();
      for (const { name, usedMs } of aged) {
        if (name === newest || used.has(name) || now - usedMs < this.baseIdleMs) for (const commit of baseChain(root, name) ?? [name]) kept.add(commit);
      }
      for (const { name } of aged) {
        if (kept.has(name)) continue;
        // A build a crash cut short may still have its view mounted (the rest of a build runs under this lock).
        if (name.startsWith('.tmp-')) await unmountOverlay(join(basesDir, name, 'view'));
        const doomed = join(basesDir, `.gone-${name}`);
        try {
          renameSync(join(basesDir, name), doomed);
        } catch {
          continue;
        }
        discard(doomed);
      }
    });
  }
}
