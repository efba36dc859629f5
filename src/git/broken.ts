import { lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { assertInside, entryExists, isInside, managedRoot, readAdminFile, resolveReal } from './paths.js';
import { isValidRefName } from './refs.js';
import { resolveCommit } from './repo.js';
import { runGit, withLockRetry } from './run.js';
import { SNAPSHOT_REF_PREFIX } from './snapshot.js';

/**
 * Broken worktree admin entries: `<common dir>/worktrees/<name>` whose HEAD
 * does not name a commit or whose gitdir file is missing or unusable — what
 * a crash or a kill in the middle of `git worktree add` leaves (HEAD is the
 * null id, the entry is locked "initializing"). `git worktree prune` keeps
 * such an entry for as long as it is locked or its directory exists, and
 * whole-repository git commands (`rev-list --all`, gc) fail on its HEAD.
 *
 * Only the admin entries (in the repository's own git directory, which no
 * agent can write) are read; the worktree directory is only looked at with
 * lstat, and read by `git add` (which never follows a link) when what it
 * holds is salvaged.
 */
export interface BrokenEntry {
  /** The entry's name under `<common dir>/worktrees/`. */
  name: string;
  adminDir: string;
  /** The worktree directory its gitdir file names (resolved), or null when that file is missing or unusable. */
  path: string | null;
  reason: string;
  /** Locked "initializing": git was stopped in the middle of `worktree add`. */
  initializing: boolean;
  /** Milliseconds since the entry (its lock, when locked) last changed. */
  ageMs: number;
  /** The Mosaic instance that marked the entry (owner.ts), when one did. */
  owner: string | null;
}

export async function commonGitDir(repoPath: string): Promise<string> {
  const raw = (await runGit(repoPath, ['rev-parse', '--git-common-dir'])).stdout.trim();
  return resolveReal(resolve(repoPath, raw));
}

interface Candidate { name: string; adminDir: string; head: string | null; target: string | null; gitdir: string | null; locked: string | null; ageMs: number; owner: string | null }

function readCandidate(adminRoot: string, name: string): Candidate | null {
  const adminDir = join(adminRoot, name);
  let mtimeMs: number;
  try {
    const st = lstatSync(adminDir);
    if (!st.isDirectory()) return null;
    mtimeMs = st.mtimeMs;
  } catch {
    return null;
  }
  const head = readAdminFile(join(adminDir, 'HEAD'))?.trim() ?? null;
  let target: string | null = null;
  if (head !== null) {
    const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
    if (ref !== undefined && isValidRefName(ref)) target = ref;
    else if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(head)) target = head;
  }
  const locked = readAdminFile(join(adminDir, 'locked'));
  if (locked !== null) {
    try {
      mtimeMs = statSync(join(adminDir, 'locked')).mtimeMs;
    } catch {
      // gone meanwhile: the entry's own time stands
    }
  }
  const owner = readAdminFile(join(adminDir, 'mosaic-owner'))?.trim() ?? null;
  return {
    name, adminDir, head, target, gitdir: readAdminFile(join(adminDir, 'gitdir'))?.trim() || null,
    locked: locked === null ? null : locked.trim(), ageMs: Math.max(0, Date.now() - mtimeMs),
    owner: owner !== null && /^[a-z2-7]{32}$/.test(owner) ? owner : null,
  };
}

/** Which of `targets` (refs or object ids) name a commit, in one `git cat-file --batch-check`. */
async function commitsExist(repoPath: string, targets: readonly string[]): Promise<boolean[]> {
  if (targets.length === 0) return [];
  const { stdout } = await runGit(repoPath, ['cat-file', '--batch-check'], { input: targets.map((t) => `${t}^{commit}\n`).join('') });
  const lines = stdout.split('\n');
  return targets.map((_, i) => / commit \d+$/.test(lines[i] ?? ''));
}

/** The repository's broken worktree admin entries (none when it has no linked worktrees). */
export async function findBrokenEntries(repoPath: string): Promise<BrokenEntry[]> {
  const adminRoot = join(await commonGitDir(repoPath), 'worktrees');
  let names: string[];
  try {
    names = readdirSync(adminRoot);
  } catch {
    return [];
  }
  const candidates = names.map((name) => readCandidate(adminRoot, name)).filter((c): c is Candidate => c !== null);
  const withTarget = candidates.filter((c) => c.target !== null);
  const valid = await commitsExist(repoPath, withTarget.map((c) => c.target!));
  const good = new Set(withTarget.filter((_, i) => valid[i]).map((c) => c.name));
  const broken: BrokenEntry[] = [];
  for (const c of candidates) {
    let path: string | null = null;
    let gitdirProblem: string | null = null;
    if (c.gitdir === null) gitdirProblem = 'its gitdir file is missing or empty';
    else {
      const file = isAbsolute(c.gitdir) ? c.gitdir : resolve(c.adminDir, c.gitdir);
      if (basename(file) !== '.git') gitdirProblem = `its gitdir file names ${file}, not a worktree's .git`;
      else {
        path = resolveReal(dirname(file));
        // A directory that is gone is git's own prunable case, unless git's half-made lock keeps it.
        if (!entryExists(file) && c.locked === 'initializing') gitdirProblem = `its directory ${path} is gone`;
      }
    }
    const headProblem = good.has(c.name) ? null
      : c.head === null ? 'its HEAD is missing'
        : `its HEAD (${c.head.slice(0, 80)}) does not name a commit`;
    const reason = [headProblem, gitdirProblem].filter((r): r is string => r !== null).join('; ');
    if (reason === '') continue;
    broken.push({ name: c.name, adminDir: c.adminDir, path, reason, initializing: c.locked === 'initializing', ageMs: c.ageMs, owner: c.owner });
  }
  return broken;
}

/**
 * Saves what the directory of a broken entry holds beyond `parentBranch`
 * (files added or changed; a half-made checkout only lacks files) as a
 * commit under `refs/mosaic/snapshots/<name>/<ms>`; null when there is
 * nothing to save. Read with the repository's own git directory and a
 * private index: the broken entry itself is never used.
 */
export async function salvageBrokenEntry(repoPath: string, entry: BrokenEntry, parentBranch: string | null): Promise<string | null> {
  if (entry.path === null || !entryExists(entry.path)) return null;
  const worktree = assertInside(managedRoot(repoPath), entry.path);
  const common = await commonGitDir(repoPath);
  const index = join(common, `mosaic-salvage-${process.pid}-${Date.now()}.index`);
  const env = { GIT_DIR: common, GIT_WORK_TREE: worktree, GIT_INDEX_FILE: index };
  try {
    const parent = parentBranch === null ? null : await resolveCommit(repoPath, `refs/heads/${parentBranch}`);
    await runGit(worktree, ['add', '-A', '--', '.'], { env, timeoutMs: 10 * 60_000 });
    const tree = (await runGit(worktree, ['write-tree'], { env })).stdout.trim();
    if (parent !== null) {
      const changed = (await runGit(repoPath, ['diff-tree', '-r', '--name-only', '--diff-filter=AM', parent, tree])).stdout.trim();
      if (changed === '') return null;
    } else if ((await runGit(repoPath, ['ls-tree', tree])).stdout.trim() === '') {
      return null;
    }
    const identity = { GIT_AUTHOR_NAME: 'Mosaic', GIT_AUTHOR_EMAIL: 'mosaic@localhost', GIT_COMMITTER_NAME: 'Mosaic', GIT_COMMITTER_EMAIL: 'mosaic@localhost' };
    const commit = (await runGit(repoPath, ['commit-tree', '--no-gpg-sign', ...(parent ? ['-p', parent] : []), tree],
      { input: `mosaic: salvaged from broken worktree entry ${entry.name}\n`, env: identity })).stdout.trim();
    const safeName = entry.name.replace(/[^A-Za-z0-9._-]/g, '-');
    const ref = `${SNAPSHOT_REF_PREFIX}${isValidRefName(`${SNAPSHOT_REF_PREFIX}${safeName}/0`) ? safeName : 'broken'}/${Date.now()}`;
    await withLockRetry(() => runGit(repoPath, ['update-ref', '-m', 'mosaic: salvage of a broken worktree entry', ref, commit, ''], { env: identity }));
    return ref;
  } finally {
    rmSync(index, { force: true });
  }
}

/**
 * Removes a broken entry: its directory (only inside the managed root) and
 * its admin entry (only a direct child of `<common dir>/worktrees`).
 */
export async function removeBrokenEntry(repoPath: string, entry: BrokenEntry): Promise<void> {
  const adminRoot = join(await commonGitDir(repoPath), 'worktrees');
  if (entry.name.includes('/') || entry.name === '.' || entry.name === '..' || resolve(adminRoot, entry.name) !== entry.adminDir) {
    throw new Error(`${entry.adminDir} is not an entry of ${adminRoot}`);
  }
  const root = managedRoot(repoPath);
  if (entry.path !== null && isInside(root, entry.path) && entryExists(entry.path)) {
    rmSync(assertInside(root, entry.path), { recursive: true, force: true, maxRetries: 3 });
  }
  rmSync(entry.adminDir, { recursive: true, force: true, maxRetries: 3 });
}
