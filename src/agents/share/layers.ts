import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BOX_DIR, makeLayer, removeTree, type OverlayMount } from '../sandbox/index.js';
import { dirKey, lowerOf } from './snapshot.js';

/**
 * A worktree's private writable layers (shareDirs in `overlay` mode), one
 * per shared directory: `<root>/<dir key>/{lower -> snapshot, upper, work, dir}`.
 * The root belongs to whoever owns the worktree: a pooled worktree's is
 * `$MOSAIC_HOME/pool/<repo>/<id>.share`, moved at hand-over to the agent's
 * `$MOSAIC_HOME/agents/<id>/sandbox/share` (removed with its sandbox dir).
 * Both are under `$MOSAIC_HOME`, which every sandbox hides: an agent reaches
 * its layer only through its own overlay mount, and no other layer at all.
 */

export const LAYERS_DIR = 'share';

export function agentLayersRoot(agentDir: string): string {
  return join(agentDir, BOX_DIR, LAYERS_DIR);
}

const DIR_FILE = 'dir';

/** Adds the layer for `dir` (over `snapshot`) under `root`. */
export function addLayer(root: string, dir: string, snapshot: string): void {
  const layerDir = join(root, dirKey(dir));
  makeLayer(layerDir, snapshot);
  writeFileSync(join(layerDir, DIR_FILE), dir);
}

/**
 * The mount point of a shared dir, checked: a real directory of the worktree
 * reached without symlinks. An earlier process in the worktree (a setup) may
 * have replaced it with a link, and the mount must never go elsewhere.
 */
function mountPoint(worktree: string, dir: string): string {
  const target = join(worktree, dir);
  if (!existsSync(target)) mkdirSync(target, { recursive: true });
  if (!lstatSync(target).isDirectory() || realpathSync(target) !== join(realpathSync(worktree), dir)) {
    throw Object.assign(new Error(`the mount point of shared dir ${dir} is no longer a directory of the worktree`), { code: 'share_mount_point' });
  }
  return target;
}

/** The overlay mounts a worktree at `worktree` needs for the layers under `root` (mount points checked). */
export function overlaysOf(root: string, worktree: string): OverlayMount[] {
  return listLayers(root).map(({ dir, layerDir }) => ({ target: mountPoint(worktree, dir), layerDir }));
}

function listLayers(root: string): { dir: string; layerDir: string }[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const layers: { dir: string; layerDir: string }[] = [];
  for (const name of names.sort()) {
    const layerDir = join(root, name);
    try {
      layers.push({ dir: readFileSync(join(layerDir, DIR_FILE), 'utf8'), layerDir });
    } catch {
      // not a finished layer
    }
  }
  return layers;
}

export function hasLayers(root: string): boolean {
  return listLayers(root).length > 0;
}

/** Moves a pooled worktree's layers to the agent that takes it (same filesystem: a rename). */
export function moveLayers(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
  removeTree(to);
  renameSync(from, to);
}

/** The snapshots the layers under each of `roots` point at. */
export function lowersUnder(roots: readonly string[]): Set<string> {
  const used = new Set<string>();
  for (const root of roots) {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of names) {
      const lower = lowerOf(join(root, name));
      if (lower !== null) used.add(lower);
    }
  }
  return used;
}

/** A pooled worktree's layers: `$MOSAIC_HOME/pool/<repo>/<id>.share`. */
export function poolLayersRoot(home: string, repo: string, poolId: string): string {
  return join(home, 'pool', repo, `${poolId}.${LAYERS_DIR}`);
}

/** Every layer root under `home` (agents' and pooled worktrees'), for the snapshot clean-up. */
export function allLayerRoots(home: string): string[] {
  const roots: string[] = [];
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  for (const id of list(join(home, 'agents'))) roots.push(agentLayersRoot(join(home, 'agents', id)));
  for (const repo of list(join(home, 'pool'))) {
    for (const name of list(join(home, 'pool', repo))) if (name.endsWith(`.${LAYERS_DIR}`)) roots.push(join(home, 'pool', repo, name));
  }
  return roots;
}
