import { randomUUID } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, openSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { invalid } from '../core/errors.js';
import { listWorktrees } from './list.js';
import { assertInside, managedRoot, resolveReal } from './paths.js';
import { isValidRefName } from './refs.js';
import { GitError, runGit, withLockRetry, worktreeFilters, type WorktreeFilters } from './run.js';

/**
 * Snapshot commits: a worktree's uncommitted state (tracked changes and
 * untracked, non-ignored files) saved as one commit on its branch before the
 * worktree goes away.
 *
 * Built with plumbing on a private copy of the index (add -A, write-tree,
 * commit-tree, update-ref HEAD) rather than `git add && git commit`, because
 * an agent that was killed mid-command often leaves `index.lock` behind, which
 * would make `git add` fail forever; and because no hook (pre-commit,
 * commit-msg, post-commit), commit template or signing setup may block or
 * hang a snapshot. Commits are authored by "Mosaic <mosaic@localhost>" through
 * GIT_AUTHOR_ and GIT_COMMITTER_ variables: they are machine-made, which the
 * identity says, and they work on machines with no git identity configured.
 *
 * Limitations: a merge in progress is saved as an ordinary commit with HEAD as
 * its only parent (content kept, the second parent is not recorded). On a
 * detached HEAD (including a rebase in progress) the commit cannot go on the
 * branch without rewriting it; it moves HEAD and is also kept reachable under
 * `refs/mosaic/snapshots/<worktree>/<ms>` so removing the worktree loses
 * nothing. Changes inside submodules are not saved (only a moved gitlink is).
 */

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Mosaic', GIT_AUTHOR_EMAIL: 'mosaic@localhost',
  GIT_COMMITTER_NAME: 'Mosaic', GIT_COMMITTER_EMAIL: 'mosaic@localhost',
};
const SNAPSHOT_TIMEOUT_MS = 10 * 60_000;
export const SNAPSHOT_REF_PREFIX = 'refs/mosaic/snapshots/';

export interface WorktreeState {
  path: string;
  gitDir: string;
  head: string | null;
  headTree: string | null;
  /** Full ref HEAD points to, or null when detached/unborn. */
  headRef: string | null;
}

/**
 * Reads the worktree's state and checks it is a linked worktree inside its
 * repository's managed root, so a snapshot never commits in a user's main
 * checkout or in some unrelated repository above a half-deleted worktree.
 */
export async function inspectWorktree(path: string): Promise<WorktreeState> {
  // Never look above the worktree for a repository: without its .git file a
  // half-deleted worktree would otherwise resolve to an enclosing repository.
  const opts = { env: { GIT_CEILING_DIRECTORIES: dirname(path) } };
  let lines: string[];
  let born = true;
  try {
    lines = (await runGit(path, ['rev-parse', '--show-toplevel', '--git-dir', '--git-common-dir',
      'HEAD', 'HEAD^{tree}', '--symbolic-full-name', 'HEAD'], opts)).stdout.split('\n');
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    try {
      lines = (await runGit(path, ['rev-parse', '--show-toplevel', '--git-dir', '--git-common-dir'], opts)).stdout.split('\n');
      born = false;
    } catch {
      throw invalid('not_a_worktree', `${path} is not a git worktree: ${err.stderr.trim()}`, { path });
    }
  }
  const [top = '', gitDirRaw = '', commonRaw = '', head = '', headTree = '', symbolic = ''] = lines;
  if (resolveReal(top) !== path) throw invalid('not_a_worktree', `${path} is not the top level of a worktree`, { path });
  const gitDir = resolveReal(resolve(path, gitDirRaw));
  const commonDir = resolveReal(resolve(path, commonRaw));
  if (gitDir === commonDir) throw invalid('not_a_worktree', `${path} is a main checkout, not a linked worktree`, { path });

  let mainPath: string | undefined;
  if (basename(commonDir) === '.git') mainPath = dirname(commonDir);
  else mainPath = (await listWorktrees(path))[0]?.path;
  if (mainPath === undefined) throw invalid('not_a_worktree', `cannot find the repository of ${path}`, { path });
  assertInside(managedRoot(mainPath), path);

  return born
    ? { path, gitDir, head, headTree, headRef: symbolic.startsWith('refs/') ? symbolic : null }
    : { path, gitDir, head: null, headTree: null, headRef: null };
}

function neverCheckedOut(state: WorktreeState): boolean {
  if (existsSync(join(state.gitDir, 'index'))) return false;
  try {
    return readdirSync(state.path).every((name) => name === '.git');
  } catch {
    return false;
  }
}

/** Moves the fresh index into place using git's own lock protocol; skipped when the lock is held. */
function installIndex(gitDir: string, tmpIndex: string): void {
  const lock = join(gitDir, 'index.lock');
  let fd: number;
  try {
    fd = openSync(lock, 'wx');
  } catch {
    return; // a (possibly stale) lock: leave the index alone, the commit is made already
  }
  try {
    closeSync(fd);
    renameSync(tmpIndex, join(gitDir, 'index'));
  } finally {
    unlinkSync(lock);
  }
}

function snapshotRefName(worktreePath: string): string {
  const name = basename(worktreePath).replace(/[^A-Za-z0-9._-]/g, '-');
  const candidate = `${SNAPSHOT_REF_PREFIX}${name}/${Date.now()}`;
  return isValidRefName(candidate) ? candidate : `${SNAPSHOT_REF_PREFIX}worktree/${Date.now()}`;
}

/**
 * Puts the excluded paths (files Mosaic copied in) back in the private index
 * as HEAD has them: dropped when HEAD lacks them, HEAD's version when it has
 * them, so a copied `.env` never lands in a snapshot whatever the agent did
 * to it. Done after `add -A` rather than with exclude pathspecs, because
 * `git add` refuses (exit 1) a pathspec that names an ignored file, and the
 * files people copy in are exactly the ignored ones.
 */
export async function unstageExcluded(
  path: string,
  head: string | null,
  exclude: readonly string[],
  opts: { env: Record<string, string>; timeoutMs: number; filters?: WorktreeFilters },
): Promise<void> {
  // Copied paths are plain relative paths, never patterns.
  const env = { ...opts.env, GIT_LITERAL_PATHSPECS: '1' };
  const filters = opts.filters ?? await worktreeFilters(path);
  const staged = splitZ((await runGit(path, ['ls-files', '-z', '--cached', '--', ...exclude], { env, timeoutMs: opts.timeoutMs, filters })).stdout);
  const inHead = new Map<string, string>();
  if (head !== null) {
    const listed = splitZ((await runGit(path, ['ls-tree', '-r', '-z', '--full-tree', head, '--', ...exclude], { env, timeoutMs: opts.timeoutMs })).stdout);
    for (const line of listed) {
      const tab = line.indexOf('\t');
      const [mode = '', , oid = ''] = line.slice(0, tab).split(' ');
      inHead.set(line.slice(tab + 1), `${mode} ${oid}`);
    }
  }
  const zero = '0'.repeat(head?.length ?? 40);
  const entries: string[] = [];
  for (const [file, modeOid] of inHead) entries.push(`${modeOid}\t${file}`);
  for (const file of staged) if (!inHead.has(file)) entries.push(`0 ${zero}\t${file}`);
  if (entries.length === 0) return;
  await runGit(path, ['update-index', '-z', '--index-info'], { env, timeoutMs: opts.timeoutMs, filters, input: entries.map((e) => `${e}\0`).join('') });
}

const splitZ = (text: string): string[] => text.split('\0').filter((part) => part !== '');

/**
 * Commits everything uncommitted in the worktree and returns the new commit,
 * or null when there was nothing to save (or the directory is already gone).
 * `exclude` lists repository-relative paths never to commit: the files Mosaic
 * copied in (`copyFiles`, e.g. `.env`) are the user's secrets, not the agent's work.
 */
export async function snapshotWorktree(worktreePath: string, message: string, exclude: readonly string[] = []): Promise<string | null> {
  if (!existsSync(worktreePath)) return null;
  const path = resolveReal(worktreePath);
  // The filter drivers, turned off, looked up once for the index-writing calls below (not once per
  // call), while the worktree is inspected; used only once it proved to be a managed worktree.
  const lookup = worktreeFilters(path);
  lookup.catch(() => undefined);
  const state = await inspectWorktree(path);
  const filters = await lookup;
  const timeoutMs = SNAPSHOT_TIMEOUT_MS;

  // Registered but never checked out (a crash between `worktree add --no-checkout` and the checkout or
  // mount): no index, nothing but `.git`. Its "changes" would be every file deleted, and nothing ran there.
  if (neverCheckedOut(state)) return null;
  const tmpIndex = join(state.gitDir, `mosaic-snapshot-${randomUUID()}.index`);
  const env = { GIT_INDEX_FILE: tmpIndex };
  try {
    const realIndex = join(state.gitDir, 'index');
    if (existsSync(realIndex)) copyFileSync(realIndex, tmpIndex); // keeps stat data, so add -A need not rehash everything
    else if (state.head) await runGit(path, ['read-tree', state.head], { env, timeoutMs, filters });
    await runGit(path, ['add', '-A', '--', '.'], { env, timeoutMs, filters });
    if (exclude.length > 0) await unstageExcluded(path, state.head, exclude, { env, timeoutMs, filters });
    const tree = (await runGit(path, ['write-tree'], { env, timeoutMs, filters })).stdout.trim();
    if (tree === state.headTree) return null; // nothing uncommitted (ignored files never count)

    const text = message.trim() === '' ? 'mosaic: snapshot' : message;
    const commit = (await runGit(path, ['commit-tree', '--no-gpg-sign', ...(state.head ? ['-p', state.head] : []), tree],
      { input: text.endsWith('\n') ? text : `${text}\n`, env: IDENTITY, timeoutMs })).stdout.trim();
    // Compare-and-swap on HEAD (through its symref to the branch): never
    // overwrite a commit made meanwhile.
    await withLockRetry(() => runGit(path, ['update-ref', '-m', 'mosaic: snapshot', 'HEAD', commit, state.head ?? ''], { env: IDENTITY }));
    if (state.headRef === null) {
      const ref = snapshotRefName(path);
      await withLockRetry(() => runGit(path, ['update-ref', '-m', 'mosaic: snapshot of detached HEAD', ref, commit], { env: IDENTITY }));
    }
    installIndex(state.gitDir, tmpIndex);
    return commit;
  } finally {
    rmSync(tmpIndex, { force: true });
  }
}
