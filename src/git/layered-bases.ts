import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { handOverLayer, type FileOwner } from '../core/hand-over.js';
import { mountOverlay, unmountOverlay } from './overlay-mount.js';
import { listNames, lstatOrNull, readText } from './quiet-fs.js';
import { runGit } from './run.js';

/**
 * The base checkouts layered worktrees stand on (layered.ts), one per base
 * commit, in `<managed root>/.bases/<commit>/`:
 *
 * - a full base: `tree/` (every file of the commit) and `index`;
 * - a diff base: `diff/` (an overlay upper holding only what differs from
 *   its `parent` base: changed and added files, whiteouts for deletions),
 *   `index`, and `parent` (that base's commit).
 *
 * A base is ready once its `ready` file exists (written last, before the
 * directory gets its commit's name). A worktree at commit C mounts C's
 * layers, top first: C's diff, its parent's, … down to a full tree.
 *
 * When the base branch moves by a commit, the next spawn's base is made from
 * the newest one as a diff: git updates only the files that differ (a
 * two-tree `read-tree -m` in an overlay of the parent's layers), so its cost
 * follows the change, not the repository's size. Files it did not touch
 * keep their inode and times, so the parent's index stays true for them and
 * git sees a worktree clean without reading a file. Chains are cut at
 * MAX_CHAIN: the next base is a full checkout again.
 *
 * Everything here is Mosaic's own: `.bases` is root's (0700), no sandbox
 * binds it, and its trees are written only by git from commits.
 */

const run = promisify(execFile);

export const BASES_DIR = '.bases';

/** Diff bases stacked on one full tree at most this deep: deeper, each lookup and copy-up crosses more layers. */
export const MAX_CHAIN = 8;

/** Who owns the base trees: the user agents run as (it writes through the overlay with its own uid). */
export type LayerOwner = FileOwner;

const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

export function baseDir(root: string, commit: string): string {
  return join(root, BASES_DIR, commit);
}

/**
 * The commits whose layers make base `commit`, top first (itself, its
 * parent, … down to a full tree), or null when it or one below it is not
 * ready (deleted, or a build a crash cut short).
 */
export function baseChain(root: string, commit: string): string[] | null {
  const chain: string[] = [];
  let current = commit;
  while (chain.length <= MAX_CHAIN) {
    const dir = baseDir(root, current);
    if (!COMMIT.test(current) || !existsSync(join(dir, 'ready'))) return null;
    chain.push(current);
    if (existsSync(join(dir, 'tree'))) return chain;
    const parent = readText(join(dir, 'parent'))?.trim();
    if (parent === undefined || chain.includes(parent)) return null;
    current = parent;
  }
  return null;
}

/** The directories an overlay of base `commit` stacks, top first (see baseChain). */
export function baseLayers(root: string, commit: string): string[] | null {
  return baseChain(root, commit)?.map((c, i, chain) => join(baseDir(root, c), i === chain.length - 1 ? 'tree' : 'diff')) ?? null;
}

/** Marks a base used now: idle bases are deleted by age (layered.ts collect). */
export function touchBase(root: string, commit: string): void {
  const now = new Date();
  utimesSync(baseDir(root, commit), now, now);
}

/**
 * Makes base `commit`: as a diff on the newest ready base when one can take
 * another layer, else (or when that fails) as a full checkout. Its files
 * end up the owner's; its index matches them. Callers hold the managed
 * root's base lock.
 */
export async function buildBase(repo: string, root: string, commit: string, owner: LayerOwner, timeoutMs: number): Promise<void> {
  mkdirSync(join(root, BASES_DIR), { recursive: true, mode: 0o700 });
  const tmp = mkdtempSync(join(root, BASES_DIR, '.tmp-'));
  try {
    const parent = newestStackable(root, commit);
    let diffed = false;
    if (parent !== null) {
      diffed = await buildDiff(repo, root, tmp, parent, commit, owner, timeoutMs).then(() => true, () => false);
      if (!diffed) {
        rmSync(tmp, { recursive: true, force: true });
        mkdirSync(tmp, { mode: 0o700 });
      }
    }
    if (!diffed) await buildFull(repo, tmp, commit, owner, timeoutMs);
    writeFileSync(join(tmp, 'ready'), `${commit}\n`);
    renameSync(tmp, baseDir(root, commit));
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Every file of `commit` in `tmp/tree`, by git, then given to the owner; `tmp/index` learns their stat data. */
async function buildFull(repo: string, tmp: string, commit: string, owner: LayerOwner, timeoutMs: number): Promise<void> {
  const tree = join(tmp, 'tree');
  mkdirSync(tree);
  const env = { GIT_INDEX_FILE: join(tmp, 'index'), GIT_WORK_TREE: tree };
  // The repository's filter drivers stay off (runGit), as for every checkout Mosaic makes.
  await runGit(repo, ['-c', 'checkout.workers=0', 'read-tree', '-u', '--reset', commit], { env, timeoutMs });
  await run('chown', ['-R', '--no-dereference', `${owner.uid}:${owner.gid}`, '--', tree], { timeout: timeoutMs });
  // The owner change changed every file's ctime: the index learns the new stat data once, here.
  await runGit(repo, ['update-index', '-q', '--refresh'], { env, timeoutMs }).catch(() => undefined);
}

/**
 * What differs from `parent` in `tmp/diff`: the parent's layers mounted
 * read-only under an empty upper (`tmp/view`), its index copied, and git's
 * two-tree merge moving that view from `parent` to `commit`: only the
 * entries that differ are written (the upper gets them, and a whiteout per
 * deletion). What git created there is given to the owner through the view
 * (core/hand-over.ts handOverLayer).
 */
async function buildDiff(repo: string, root: string, tmp: string, parent: string, commit: string, owner: LayerOwner, timeoutMs: number): Promise<void> {
  const lowers = baseChain(root, parent);
  if (lowers === null) throw new Error(`base ${parent} is not ready`);
  const diff = join(tmp, 'diff');
  const view = join(tmp, 'view');
  mkdirSync(diff);
  mkdirSync(join(tmp, 'work'), { mode: 0o700 });
  mkdirSync(view);
  copyFileSync(join(baseDir(root, parent), 'index'), join(tmp, 'index'));
  // Relative to `.bases`: commits and mkdtemp's names only, so no host path is parsed as a mount option.
  const lowerdir = lowers.map((c, i) => `${c}/${i === lowers.length - 1 ? 'tree' : 'diff'}`).join(':');
  const name = basename(tmp);
  await mountOverlay('mosaic-base', `lowerdir=${lowerdir},upperdir=${name}/diff,workdir=${name}/work`, view, join(root, BASES_DIR), timeoutMs);
  try {
    const env = { GIT_INDEX_FILE: join(tmp, 'index'), GIT_WORK_TREE: view };
    await runGit(repo, ['read-tree', '-u', '-m', parent, commit], { env, timeoutMs });
    await handOverLayer(diff, view, owner);
    // Only the written entries' stat data are new: the refresh reads those, the rest match already.
    await runGit(repo, ['update-index', '-q', '--refresh'], { env, timeoutMs }).catch(() => undefined);
  } finally {
    await unmountOverlay(view).catch(() => undefined);
  }
  rmSync(view, { recursive: true, force: true });
  rmSync(join(tmp, 'work'), { recursive: true, force: true });
  writeFileSync(join(tmp, 'parent'), `${parent}\n`);
}

/** The entries of `.bases` (bases, and `.tmp-`/`.gone-`/`.broken-` ones), most recently used first (a base's mtime is its last use). */
export function basesByLastUse(root: string): { name: string; usedMs: number }[] {
  const basesDir = join(root, BASES_DIR);
  return listNames(basesDir).map((name) => ({ name, usedMs: lstatOrNull(join(basesDir, name))?.mtimeMs ?? 0 })).sort((a, b) => b.usedMs - a.usedMs);
}

/** The most recently used ready base other than `commit` that can take one more layer, or null. */
function newestStackable(root: string, commit: string): string | null {
  for (const { name } of basesByLastUse(root)) {
    if (name === commit || !COMMIT.test(name)) continue;
    const chain = baseChain(root, name);
    if (chain !== null) return chain.length < MAX_CHAIN ? name : null;
  }
  return null;
}
