import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mkdir, rm } from 'node:fs/promises';
import { conflict, invalid } from '../core/errors.js';
import { availableParallelism } from 'node:os';
import { KeyedMutex, KeyedRwLock } from '../core/mutex.js';
import { findBrokenEntries, removeBrokenEntry, salvageBrokenEntry, type BrokenEntry } from './broken.js';
import { createBranchBundle, importBranchBundle, type BranchBundle, type ImportBundleOptions } from './bundle.js';
import { captureWorktreeTree, diffWorktree, type CapturedTree } from './capture.js';
import { copyIntoWorktree } from './copy.js';
import { detachWorktree, TRASH_DIR } from './detach.js';
import { DEFAULT_MAX_DIFF_BYTES, diffBranch, summarizeBranch } from './diff.js';
import { LayeredWorktrees, mountedUpper, type LayerOwner } from './layered.js';
import { listWorktrees } from './list.js';
import { processesInside, readWorktreeOwner, writeWorktreeOwner } from './owner.js';
import { assertInside, assertManagedWorktree, entryExists, isInside, managedRoot, resolveReal, worktreePathFor } from './paths.js';
import { landBranch, type LandOptions, type LandResult } from './land.js';
import { deleteBranch, inspectTopLevel, resolveCommit } from './repo.js';
import { assertBranchName, assertRefName } from './refs.js';
import { movePooledTo, pooledNames, renamePooled } from './pool.js';
import { GitError, runGit, withLockRetry, worktreeFilters, type WorktreeFilters } from './run.js';
import { snapshotWorktree } from './snapshot.js';
import type { CreatedWorktree, CreateWorktreeOptions, DiffSummary, WorktreeEntry } from './types.js';

export interface WorktreeManagerOptions {
  /** Time allowed for one `git worktree add` (checking out a large repository). Default 10 min. */
  addTimeoutMs?: number;
  /** Attempts for an operation failing on another process's git lock. Default 6. */
  lockAttempts?: number;
  /** The instance id recorded in every worktree this manager creates (see owner.ts). */
  owner?: string;
  /**
   * Deletes a removed worktree's directory, already renamed into
   * `<repo>_worktrees/.trash/`, in the background (see detach.ts). Default:
   * Node's recursive `rm` (which unlinks links, never follows them).
   */
  discard?: (trashPath: string) => void;
  /** `worktree add`s run at once per repository (default: the machine's parallelism, at least 2). */
  parallelAdds?: number;
  /**
   * Agents' worktrees are layered (layered.ts: one checkout per base commit,
   * an overlay per worktree), their base trees owned by this user. Needs
   * root; where the overlay cannot be mounted a worktree is a full checkout.
   */
  layered?: LayerOwner;
  /** Told once per managed root where layered worktrees could not be mounted (it gets full checkouts). */
  onLayeredUnavailable?: (root: string, reason: string) => void;
}

const discardWithRm = (path: string): void => {
  void rm(path, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
};

const EXISTS_PATH = /'.*' already exists/;
const EXISTS_BRANCH = /a branch named '.*' already exists/i;
const MISSING_REGISTERED = /is a missing but (already registered|locked) worktree/i;

/**
 * Creates, lists and removes the managed worktrees of repositories. One per
 * process. Per repository, `worktree add`s run side by side (a few at a time:
 * git takes no repository-wide lock for one, only the new branch's ref lock
 * and its own `.git/worktrees/<name>`, which it marks `locked` while it
 * initializes, so a concurrent prune leaves it alone); every other operation
 * that changes worktrees or refs (remove's fallback through git, prune, the
 * broken-entry sweep, land, hand-overs, branch deletion) runs alone, after
 * the adds under way; the common remove (detach.ts) takes no lock at all.
 * Operations failing on another process's git lock are retried with backoff.
 */
export class WorktreeManager {
  private readonly locks: KeyedRwLock;
  /** `worktree add` registrations of one repository, one at a time (see create). */
  private readonly registering = new KeyedMutex();
  private readonly addTimeoutMs: number;
  private readonly lockAttempts: number;
  /** The instance id this manager marks its worktrees with; undefined in tools and tests that need none. */
  readonly owner: string | undefined;
  private readonly discard: (trashPath: string) => void;
  /** Trash directories this manager is deleting, so a later remove does not start on them again. */
  private readonly discarding = new Set<string>();
  private readonly layers: LayeredWorktrees | null;
  private readonly onLayeredUnavailable: (root: string, reason: string) => void;

  constructor(options: WorktreeManagerOptions = {}) {
    this.addTimeoutMs = options.addTimeoutMs ?? 10 * 60_000;
    this.lockAttempts = options.lockAttempts ?? 6;
    this.owner = options.owner;
    this.discard = options.discard ?? discardWithRm;
    this.locks = new KeyedRwLock(Math.max(1, options.parallelAdds ?? Math.max(2, availableParallelism())));
    this.layers = options.layered ? new LayeredWorktrees(options.layered, this.addTimeoutMs) : null;
    this.onLayeredUnavailable = options.onLayeredUnavailable ?? (() => undefined);
  }

  /** The instance that made the worktree (null when unmarked), and pids of live processes working inside it. */
  inspectOwner(worktreePath: string): { owner: string | null; processes: number[] } {
    return { owner: readWorktreeOwner(worktreePath), processes: processesInside(worktreePath) };
  }

  /** Alone among this repository's worktree and ref operations. */
  private serialize<T>(repoPath: string, task: () => Promise<T>): Promise<T> {
    return this.locks.exclusive(resolveReal(repoPath), task);
  }

  /** Beside this repository's other adds (a few at a time), never beside a serialized operation. */
  private alongside<T>(repoPath: string, task: () => Promise<T>): Promise<T> {
    return this.locks.shared(resolveReal(repoPath), task);
  }

  private retry<T>(task: () => Promise<T>, beforeRetry?: (err: unknown) => Promise<void>): Promise<T> {
    return withLockRetry(task, { attempts: this.lockAttempts, ...(beforeRetry ? { beforeRetry } : {}) });
  }

  /**
   * `<repo>_worktrees/<name>` on a new branch `branch` made from `baseBranch`:
   * layered when this manager makes layered worktrees (unless `plain`: a
   * pooled worktree is moved later, and a mount point cannot be), else a
   * full checkout.
   */
  async create(opts: CreateWorktreeOptions, plain = false): Promise<CreatedWorktree> {
    if (typeof opts !== 'object' || opts === null) throw invalid('invalid_worktree', 'worktree options are required');
    const branch = assertBranchName('branch', opts.branch);
    const baseBranch = assertRefName('baseBranch', opts.baseBranch);
    const path = worktreePathFor(opts.repoPath, opts.name);
    // The add's filter lookup (a git process) runs beside the inspection; used only if it was made in the
    // top level the inspection finds (else the add looks them up itself), and a failed lookup is simply redone.
    const [{ path: repo, commit: baseCommit }, filters] = await Promise.all([
      inspectTopLevel(opts.repoPath, baseBranch),
      (async () => worktreeFilters(resolveReal(opts.repoPath)))().catch(() => undefined),
    ]);
    if (baseCommit === null) {
      throw invalid('unknown_base_branch', `base branch ${baseBranch} does not resolve to a commit`, { baseBranch });
    }

    return this.alongside(repo, async () => {
      if (entryExists(path)) throw conflict('worktree_exists', `${path} already exists`, { path });
      // No separate branch check: git creates the branch first and fails
      // before touching anything else when it exists (mapped below).
      const root = managedRoot(repo);
      await mkdir(root, { recursive: true });
      const target = assertInside(root, path); // again: the root may be a symlink created meanwhile
      // The add registers only (admin entry, branch, HEAD), one add of the repository at a time: an add
      // reads every other entry (is the branch checked out elsewhere?) and dies on one half-made by an
      // add beside it ("failed to read .git/worktrees/<name>/commondir", git 2.39, 20 adds at once).
      // The checkout, the slow part, then runs beside the others' (checkout() below).
      const args = ['worktree', 'add', '--no-checkout', '-b', branch, '--end-of-options', target, baseCommit];
      // The filter lookup made beside the inspection serves the add too when it was made here (one git process less).
      const addFilters = filters?.cwd === repo ? { filters } : {};
      const add = (): Promise<unknown> => this.registering.run(repo, () => runGit(repo, args, { timeoutMs: this.addTimeoutMs, ...addFilters }));
      try {
        try {
          await this.retry(add, () => this.undoFailedAdd(repo, target, branch, baseCommit, true));
        } catch (err) {
          // The path is registered to a worktree whose directory is gone: clear it once and try again.
          if (!(err instanceof GitError && MISSING_REGISTERED.test(err.stderr))) throw err;
          await this.undoFailedAdd(repo, target, branch, baseCommit, true);
          await runGit(repo, ['worktree', 'unlock', '--end-of-options', target]).catch(() => undefined);
          await runGit(repo, ['worktree', 'prune']);
          await this.retry(add, () => this.undoFailedAdd(repo, target, branch, baseCommit, true));
        }
      } catch (err) {
        const stderr = err instanceof GitError ? err.stderr : '';
        // Someone outside this process made the branch or the directory
        // meanwhile: theirs, so leave it. Otherwise undo what git left (it
        // creates the branch before it checks the path).
        if (EXISTS_BRANCH.test(stderr)) throw conflict('branch_exists', `branch ${branch} already exists`, { branch });
        const pathTaken = EXISTS_PATH.test(stderr);
        await this.undoFailedAdd(repo, target, branch, baseCommit, !pathTaken);
        if (pathTaken) throw conflict('worktree_exists', `${target} already exists`, { path: target });
        throw err;
      }
      try {
        // The repository's filter drivers are the new worktree's too (it has no config of its own yet).
        const layered = !plain && this.layers !== null && await this.layers.tryMount(repo, root, target, baseCommit, this.onLayeredUnavailable);
        if (!layered) await this.checkout(target, filters?.cwd === repo ? { cwd: target, overrides: filters.overrides } : undefined);
        if (this.owner !== undefined) writeWorktreeOwner(target, this.owner);
      } catch (err) {
        await this.undoFailedAdd(repo, target, branch, baseCommit, true);
        throw err;
      }
      return { path: target, branch, baseCommit };
    });
  }

  /**
   * Writes a just-registered worktree's files and index, as `worktree add`
   * itself does after registering (`reset --hard`), with git's parallel
   * checkout (one worker per core; entries that need a filter still go
   * through the main process): a large checkout about twice as fast. It
   * touches only this worktree's index and files, so checkouts of one
   * repository run side by side.
   */
  private async checkout(target: string, filters: WorktreeFilters | undefined): Promise<void> {
    await runGit(target, ['-c', 'checkout.workers=0', 'reset', '--hard', '--quiet', '--no-recurse-submodules'],
      { timeoutMs: this.addTimeoutMs, ...(filters ? { filters } : {}) });
  }

  /**
   * Mounts again the repository's layered worktrees that are not mounted (a
   * reboot unmounts them; until then each is an empty directory that no git
   * command takes for a worktree). Returns those it could not mount.
   */
  async remountLayered(repoPath: string): Promise<string[]> {
    if (this.layers === null || !existsSync(repoPath)) return [];
    return this.layers.remount(managedRoot(resolveReal(repoPath)));
  }

  /** The own layer (`upper`) of a mounted layered worktree, null for any other: what the sandbox hands to the agent user. */
  layerUpper(repoPath: string, worktreePath: string): string | null {
    const target = assertManagedWorktree(repoPath, worktreePath);
    return this.layers === null ? null : mountedUpper(managedRoot(resolveReal(repoPath)), target);
  }

  /** Moves a removed layered worktree's layer into the trash, to be deleted with it; then drops bases no worktree uses. */
  private discardLayer(root: string, layer: string): void {
    const trash = join(root, TRASH_DIR, `${basename(layer)}-layer-${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(join(root, TRASH_DIR), { recursive: true, mode: 0o700 });
      renameSync(layer, trash);
      this.discardTrash(root, trash);
    } catch {
      // left in place: a later worktree of this name starts with a fresh layer anyway
    }
    void this.layers?.collect(root, (path) => this.discard(path)).catch(() => undefined);
  }

  /**
   * Best-effort cleanup after a failed `worktree add`: removes the directory
   * (when it was ours to create) and the branch, but the branch only while it
   * still points at the base commit and is checked out nowhere, so no commit
   * can be lost.
   */
  private async undoFailedAdd(repo: string, path: string, branch: string, baseCommit: string, removePath: boolean): Promise<void> {
    try {
      if (removePath && this.layers !== null) {
        // A layer mounted before the failure (nothing of an agent ran in it yet): unmounted and deleted first.
        const layer = await this.layers.detach(managedRoot(repo), path).catch(() => null);
        if (layer !== null) await rm(layer, { recursive: true, force: true });
      }
      if (removePath && entryExists(path)) {
        await runGit(repo, ['worktree', 'remove', '--force', '--force', '--end-of-options', path]).catch(() => undefined);
        await rm(assertInside(managedRoot(repo), path), { recursive: true, force: true });
      }
      await runGit(repo, ['worktree', 'prune']).catch(() => undefined);
      if ((await resolveCommit(repo, `refs/heads/${branch}`)) !== baseCommit) return;
      const used = (await listWorktrees(repo)).some((entry) => entry.branch === branch);
      if (!used) await deleteBranch(repo, branch).catch(() => undefined);
    } catch {
      // Cleanup must never hide the original error.
    }
  }

  /** Commits the worktree's uncommitted changes (but `exclude`) to its branch; null when clean or gone. */
  snapshot(worktreePath: string, message: string, exclude: readonly string[] = []): Promise<string | null> {
    return snapshotWorktree(worktreePath, message, exclude);
  }

  /**
   * Removes a managed worktree and its registration, discarding uncommitted
   * changes (snapshot first). Idempotent. Only paths inside the repository's
   * managed root are accepted, and only they are ever deleted.
   */
  async remove(repoPath: string, worktreePath: string): Promise<void> {
    const root = managedRoot(repoPath);
    const target = assertManagedWorktree(repoPath, worktreePath);
    const repo = resolveReal(repoPath);
    // A layered worktree's overlay goes first (a mount point cannot be renamed); its layer goes with the directory.
    const layer = this.layers === null ? null : await this.layers.detach(root, target);
    // The common case, without waiting for the repository's other worktree operations (a pool refill's
    // checkout): renamed away and unregistered at once, its files deleted in the background.
    if (existsSync(repo) && entryExists(target)) {
      const trash = await detachWorktree(repo, root, target).catch(() => null);
      if (trash !== null) {
        this.discardTrash(root, trash);
        if (layer !== null) this.discardLayer(root, layer);
        return;
      }
    }
    await this.serialize(repo, async () => {
      const repoExists = existsSync(repo);
      let removedByGit = false;
      if (entryExists(target)) {
        if (repoExists) {
          try {
            await this.retry(() => runGit(repo, ['worktree', 'remove', '--force', '--force', '--end-of-options', target]));
            removedByGit = true;
          } catch {
            // e.g. a half-deleted directory or submodules: fall back below.
            await runGit(repo, ['worktree', 'unlock', '--end-of-options', target]).catch(() => undefined);
          }
        }
        if (!removedByGit || entryExists(target)) {
          await rm(assertInside(root, target), { recursive: true, force: true, maxRetries: 3 });
        }
      }
      // `worktree remove` drops the registration itself; otherwise clear stale ones.
      if (repoExists && !removedByGit) await this.retry(() => runGit(repo, ['worktree', 'prune']));
      if (entryExists(target)) throw new Error(`could not remove worktree ${target}`);
      if (layer !== null) this.discardLayer(root, layer);
    });
  }

  /**
   * Starts deleting `trash`, and whatever else waits in the managed root's
   * trash from an earlier process (stopped before its deletions ended).
   */
  private discardTrash(root: string, trash: string): void {
    const start = (path: string): void => {
      if (this.discarding.has(path)) return;
      this.discarding.add(path);
      this.discard(path);
      // Forgotten after a while: a path that is still there then was not deleted, and the next remove tries again.
      setTimeout(() => this.discarding.delete(path), 10 * 60_000).unref();
    };
    start(trash);
    let left: string[] = [];
    try {
      left = readdirSync(join(root, TRASH_DIR));
    } catch {
      // no trash directory: nothing else to delete
    }
    for (const name of left) start(join(root, TRASH_DIR, name));
  }

  /** Every worktree git knows for the repository (the main one first). */
  list(repoPath: string): Promise<WorktreeEntry[]> {
    return listWorktrees(repoPath);
  }

  /** Drops registrations of worktrees whose directories are gone. */
  async prune(repoPath: string): Promise<void> {
    await this.serialize(repoPath, () => this.retry(() => runGit(repoPath, ['worktree', 'prune'])));
  }

  /** The repository's broken worktree admin entries (see broken.ts); read-only. */
  broken(repoPath: string): Promise<BrokenEntry[]> {
    return findBrokenEntries(repoPath);
  }

  /**
   * Saves what a broken entry's directory holds beyond `parentBranch` (under
   * refs/mosaic/snapshots/) and removes the entry and its directory. Checked
   * again under the repository's lock, where no `worktree add` of this
   * process is in flight: an entry that is no longer broken, or whose
   * directory lies outside the managed root, is left alone (pruned false).
   */
  async pruneBroken(repoPath: string, name: string, parentBranch: string | null): Promise<{ pruned: boolean; salvaged: string | null }> {
    return this.serialize(repoPath, async () => {
      const entry = (await findBrokenEntries(repoPath)).find((e) => e.name === name);
      if (entry === undefined) return { pruned: false, salvaged: null };
      if (entry.path !== null && !isInside(managedRoot(repoPath), entry.path)) return { pruned: false, salvaged: null };
      const salvaged = await salvageBrokenEntry(repoPath, entry, parentBranch);
      await removeBrokenEntry(repoPath, entry);
      return { pruned: true, salvaged };
    });
  }

  /** Unified diff of what `branch` changed since it forked from `baseRef`. */
  diff(repoPath: string, baseRef: string, branch: string): Promise<string> {
    return diffBranch(repoPath, baseRef, branch);
  }

  /** Diff of a live worktree since its fork point: commits and uncommitted changes (but `exclude`). */
  diffLive(repoPath: string, baseRef: string, worktreePath: string, exclude: readonly string[] = []): Promise<string> {
    return diffWorktree(repoPath, baseRef, assertManagedWorktree(repoPath, worktreePath), exclude, DEFAULT_MAX_DIFF_BYTES);
  }

  /** The tree a snapshot would commit now, without committing or touching the worktree's index. */
  capture(repoPath: string, worktreePath: string, exclude: readonly string[] = []): Promise<CapturedTree> {
    return captureWorktreeTree(assertManagedWorktree(repoPath, worktreePath), exclude);
  }

  summary(repoPath: string, baseRef: string, branch: string): Promise<DiffSummary> {
    return summarizeBranch(repoPath, baseRef, branch);
  }

  /** Copies untracked files from the main checkout; returns the entries copied. */
  copyFiles(repoPath: string, worktreePath: string, files: string[]): Promise<string[]> {
    return copyIntoWorktree(repoPath, worktreePath, files);
  }

  /**
   * Lands a branch into another (see land.ts). Serialized with this
   * repository's other ref and worktree updates, so two lands into one
   * target run one after the other and the second is computed on the first's
   * result; the compare-and-swap covers processes outside this one.
   */
  land(opts: LandOptions): Promise<LandResult> {
    return this.serialize(opts.repoPath, () => landBranch(opts));
  }

  /** A pooled worktree `pool-<id>` on branch `mosaic-pool-<id>` at the tip of `baseBranch`. */
  createPooled(repoPath: string, id: string, baseBranch: string): Promise<CreatedWorktree> {
    const { name, branch } = pooledNames(id);
    return this.create({ repoPath, name, branch, baseBranch }, true);
  }

  /** Brings a pooled worktree to `commit`, keeping its untracked and ignored files (setup output). */
  async refreshPooled(repoPath: string, worktreePath: string, commit: string): Promise<void> {
    const target = assertManagedWorktree(repoPath, worktreePath);
    await this.serialize(repoPath, () => this.retry(() => movePooledTo(target, commit)));
  }

  /**
   * Hands a pooled worktree to an agent: its branch is renamed to `branch` and
   * its directory moved to `<repo>_worktrees/<name>`. Fails with 409
   * `branch_exists` / `worktree_exists` when a name is taken, leaving the
   * pooled worktree as it was.
   */
  async handOverPooled(repoPath: string, from: { path: string; branch: string; commit?: string }, to: { name: string; branch: string }): Promise<CreatedWorktree> {
    const source = assertManagedWorktree(repoPath, from.path);
    const fromBranch = assertBranchName('branch', from.branch);
    const branch = assertBranchName('branch', to.branch);
    const path = worktreePathFor(repoPath, to.name);
    const repo = resolveReal(repoPath);
    return this.serialize(repo, async () => {
      if (entryExists(path)) throw conflict('worktree_exists', `${path} already exists`, { path });
      try {
        // `branch -m` refuses a taken name before it changes anything: no separate check (a git process) first.
        await this.retry(() => renamePooled(repo, { path: source, branch: fromBranch }, { path, branch }));
      } catch (err) {
        if (err instanceof GitError && EXISTS_BRANCH.test(err.stderr)) throw conflict('branch_exists', `branch ${branch} already exists`, { branch });
        throw err;
      }
      // The caller that just checked the pooled worktree's HEAD says where it is; otherwise ask.
      const baseCommit = from.commit ?? await resolveCommit(repo, `refs/heads/${branch}`);
      if (baseCommit === null) throw new Error(`branch ${branch} vanished during the hand-over`);
      return { path, branch, baseCommit };
    });
  }

  /** Removes a pooled worktree and its pool branch (a pooled worktree holds no work of its own). */
  async removePooled(repoPath: string, worktreePath: string, branch: string): Promise<void> {
    await this.remove(repoPath, worktreePath);
    if (existsSync(repoPath)) await this.deleteBranch(repoPath, assertBranchName('branch', branch));
  }

  /** `branch` as a git bundle relative to its fork point from `baseRef` (413 `bundle_too_large` over `maxBytes`). */
  bundle(repoPath: string, branch: string, baseRef: string, maxBytes: number): Promise<BranchBundle> {
    return createBranchBundle(repoPath, branch, baseRef, maxBytes);
  }

  /** Verifies a bundle and fetches it into `refs/heads/<branch>`, serialized with the repository's other ref updates. */
  importBundle(opts: ImportBundleOptions): Promise<{ branch: string; commit: string }> {
    return this.serialize(opts.repoPath, () => importBranchBundle(opts));
  }

  /** Force-deletes a branch, serialized with the repository's other ref updates; false when missing. */
  deleteBranch(repoPath: string, branch: string): Promise<boolean> {
    return this.serialize(repoPath, () => deleteBranch(repoPath, branch));
  }
}
