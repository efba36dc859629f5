import { LAND_STRATEGIES, type LandStrategy } from '../core/agent-model.js';
import { conflict, invalid, MosaicError, notFound } from '../core/errors.js';
import { listWorktrees } from './list.js';
import { commitTree, identityEnv, mergeCommits, mergeTrees, readCommit, repoIdentity, type Person } from './merge.js';
import { resolveCommit } from './repo.js';
import { assertBranchName } from './refs.js';
import { gitTest, GitError, runGit } from './run.js';
import { SAFE_CHECKOUT_ARGS } from './safe.js';

/**
 * Landing a branch into another without checking anything out: the result
 * commit is computed in the object database (merge-tree, commit-tree), then
 * the target ref moves with a compare-and-swap on the commit it was computed
 * from. A work tree that has the target checked out is first checked for
 * uncommitted changes (refused, nothing changes) and, when clean, moved to
 * the new commit with a two-tree `read-tree -m -u`, which refuses rather
 * than overwrite anything not committed.
 */

export { LAND_STRATEGIES, type LandStrategy };

export interface LandOptions {
  repoPath: string;
  /** The branch whose work lands (e.g. `agent-<id>-<task>`). */
  source: string;
  /** The branch that receives it. */
  into: string;
  strategy: LandStrategy;
  /** Message of the merge or squash commit (rebase keeps each commit's own). */
  message: string;
  /** Attempts when the target moves between computing and updating (default 3). */
  attempts?: number;
  /** Test seam: runs after the result is computed, before the ref moves. */
  beforeUpdate?: (computed: { previous: string; commit: string }) => Promise<void>;
}

export interface LandResult {
  commit: string;
  into: string;
  strategy: LandStrategy;
  /** Where the target pointed before. */
  previous: string;
  /** Work trees that had the target checked out and were moved to `commit`. */
  updatedCheckouts: string[];
}

class TargetMoved extends Error {}

const isAncestor = (repo: string, a: string, b: string): Promise<boolean> => gitTest(repo, ['merge-base', '--is-ancestor', a, b]);
const treeOf = async (repo: string, commit: string): Promise<string> => (await runGit(repo, ['rev-parse', '--verify', `${commit}^{tree}`])).stdout.trim();

export async function landBranch(opts: LandOptions): Promise<LandResult> {
  const source = assertBranchName('branch', opts.source);
  const into = assertBranchName('into', opts.into);
  if (source === into) throw invalid('invalid_into', `cannot land ${source} into itself`, { field: 'into' });
  if (!(LAND_STRATEGIES as readonly string[]).includes(opts.strategy)) {
    throw invalid('invalid_strategy', `strategy must be one of ${LAND_STRATEGIES.join(', ')}`, { field: 'strategy' });
  }
  const repo = opts.repoPath;
  const attempts = opts.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await landOnce(repo, source, into, opts);
    } catch (err) {
      if (!(err instanceof TargetMoved)) throw err;
      if (attempt >= attempts) {
        throw conflict('target_moved', `${into} kept moving while the landing was computed; try again`, { into, retryable: true });
      }
    }
  }
}

async function landOnce(repo: string, source: string, into: string, opts: LandOptions): Promise<LandResult> {
  const ref = `refs/heads/${into}`;
  const [previous, head] = await Promise.all([resolveCommit(repo, ref), resolveCommit(repo, `refs/heads/${source}`)]);
  if (previous === null) throw notFound('branch_not_found', `branch ${into} does not exist`);
  if (head === null) throw notFound('branch_not_found', `branch ${source} does not exist`);
  if (await isAncestor(repo, head, previous)) {
    throw conflict('nothing_to_land', `${into} already contains everything on ${source}`, { into, branch: source });
  }

  const commit = await compute(repo, opts.strategy, previous, head, opts.message);
  if (commit === previous || (await treeOf(repo, commit)) === (await treeOf(repo, previous))) {
    throw conflict('nothing_to_land', `landing ${source} would not change ${into}`, { into, branch: source });
  }

  const checkouts = (await listWorktrees(repo)).filter((w) => w.branch === into && !w.bare && !w.prunable).map((w) => w.path);
  for (const path of checkouts) {
    const dirty = await uncommitted(path);
    if (dirty.length > 0) {
      throw conflict('target_dirty', `${into} is checked out at ${path} with uncommitted changes; commit or stash them first`,
        { into, path, paths: dirty.slice(0, 100) });
    }
  }

  if (opts.beforeUpdate) await opts.beforeUpdate({ previous, commit });
  try {
    await runGit(repo, [...SAFE_CHECKOUT_ARGS, 'update-ref', '-m', `mosaic: land ${source} (${opts.strategy})`, ref, commit, previous]);
  } catch (err) {
    if (err instanceof GitError && (await resolveCommit(repo, ref)) !== previous) throw new TargetMoved();
    throw err;
  }

  const updated: string[] = [];
  for (const path of checkouts) {
    try {
      await runGit(path, [...SAFE_CHECKOUT_ARGS, 'read-tree', '-m', '-u', previous, commit]);
      await runGit(path, [...SAFE_CHECKOUT_ARGS, 'update-index', '-q', '--refresh']).catch(() => undefined);
      updated.push(path);
    } catch (err) {
      // Someone changed that checkout after the check: put the ref back (only if still ours) and report it as dirty.
      const restored = await runGit(repo, [...SAFE_CHECKOUT_ARGS, 'update-ref', '-m', 'mosaic: land undone', ref, previous, commit]).then(() => true, () => false);
      const why = err instanceof GitError ? err.stderr.trim().split('\n')[0] ?? '' : String(err);
      throw conflict('target_dirty', `${path} changed while ${into} was being updated (${why})`,
        { into, path, restored, updatedCheckouts: updated });
    }
  }
  return { commit, into, strategy: opts.strategy, previous, updatedCheckouts: updated };
}

async function compute(repo: string, strategy: LandStrategy, target: string, head: string, message: string): Promise<string> {
  const me = await repoIdentity(repo);
  const env = identityEnv(me, me);
  if (strategy === 'rebase') return replay(repo, target, head, me);
  const merged = await mergeCommits(repo, target, head);
  if (merged.conflicts.length > 0) throw landConflict(merged.conflicts);
  return commitTree(repo, merged.tree, strategy === 'merge' ? [target, head] : [target], message, env);
}

/**
 * The branch's own commits (merges left out, as `git rebase` does) picked
 * one by one onto the target, each keeping its author, date and message.
 * When the target has not moved since the branch forked, the branch's
 * commits are taken as they are (a fast-forward).
 */
async function replay(repo: string, target: string, head: string, committer: Person): Promise<string> {
  if (await isAncestor(repo, target, head)) return head;
  const { stdout } = await runGit(repo, ['rev-list', '--reverse', '--topo-order', '--no-merges', `${target}..${head}`]);
  let tip = target;
  let tipTree = await treeOf(repo, target);
  for (const pick of stdout.split('\n').filter(Boolean)) {
    const info = await readCommit(repo, pick);
    const parent = info.parents[0];
    const baseTree = parent === undefined ? (await runGit(repo, ['mktree'], { input: '' })).stdout.trim() : await treeOf(repo, parent);
    const merged = await mergeTrees(repo, baseTree, tipTree, info.tree);
    if (merged.conflicts.length > 0) throw landConflict(merged.conflicts, pick);
    if (merged.tree === tipTree) continue; // already upstream: dropped, as rebase drops empty picks
    tip = await commitTree(repo, merged.tree, [tip], info.message, identityEnv(info.author, committer, info.authorDate));
    tipTree = merged.tree;
  }
  return tip;
}

function landConflict(paths: string[], commit?: string): MosaicError {
  const where = commit === undefined ? '' : ` (replaying ${commit.slice(0, 12)})`;
  return conflict('land_conflict', `landing conflicts in ${paths.length} file(s)${where}: ${paths.slice(0, 10).join(', ')}`,
    { paths, ...(commit === undefined ? {} : { commit }) });
}

/** Tracked files with staged or unstaged changes in the work tree at `path` (untracked files are never overwritten anyway). */
async function uncommitted(path: string): Promise<string[]> {
  const { stdout } = await runGit(path, ['--no-optional-locks', ...SAFE_CHECKOUT_ARGS, 'status', '--porcelain=v1', '-z', '--untracked-files=no']);
  const out: string[] = [];
  const fields = stdout.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i] ?? '';
    if (entry.length < 4) continue;
    out.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') i++; // the rename's source path follows
  }
  return out;
}
