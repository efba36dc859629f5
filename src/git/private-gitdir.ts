import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { invalid } from '../core/errors.js';
import { resolveReal } from './paths.js';
import { runGit, withLockRetry } from './run.js';
import { SNAPSHOT_REF_PREFIX } from './snapshot.js';

/**
 * The git view of a sandboxed agent (DESIGN §3 "Runtimes and supervision").
 *
 * Inside its sandbox an agent never sees the repository's real git dir.
 * Its worktree's `.git` file is covered by one that points to a PRIVATE git
 * dir: a copy of the refs, the index and HEAD, a config Mosaic writes, and an
 * object directory of its own whose `info/alternates` names the repository's
 * object directory (mounted read-only). So the agent can add, commit, stash,
 * branch, even rewrite "main" or its config: all of it lands in the private
 * dir and changes nothing shared. Existing objects cannot be deleted or
 * rewritten (read-only), and no hook or config of the real repository runs.
 *
 * Mosaic brings the work home with `importPrivateGitDir`: a `git fetch` from
 * the private dir (objects re-hashed and checked by index-pack, so a planted
 * object can never take a name it does not hash to), then a compare-and-swap
 * of the agent's real branch. The real index and HEAD of the worktree are
 * never handed to the agent, so Mosaic's own snapshot and diff keep working
 * on them (files changed by the agent are simply re-hashed).
 */
export interface PrivateGitDir {
  /** The private git dir (bind it read-write at the same path). */
  gitDir: string;
  /** A `gitdir: <gitDir>` file to bind read-only over `<worktree>/.git`. */
  dotGitFile: string;
  /** The repository's real object directory (bind read-only at the same path). */
  objectsDir: string;
  /** Further object directories the repository borrows from (alternates), read-only. */
  alternateDirs: string[];
}

const IMPORT_REF_PREFIX = 'refs/mosaic/import/';
/** Next to (not inside) the private git dir: the repository's object dir, out of the agent's reach. */
const REAL_OBJECTS_FILE = 'objects-dir';
const IMPORT_TIMEOUT_MS = 10 * 60_000;

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Config keys copied from the repository into the private config: what the agent's git needs to read the repository, and who it is. */
const COPIED_CONFIG = /^(core\.repositoryformatversion|extensions\..*|user\.(name|email)|remote\..*\.(url|fetch)|init\.defaultbranch)$/i;

/** `[section "sub"]`/`key = value` text for a flat key like `remote.origin.url`. */
function configText(entries: [string, string][]): string {
  const sections = new Map<string, string[]>();
  for (const [key, value] of entries) {
    const first = key.indexOf('.');
    const last = key.lastIndexOf('.');
    const section = first === last ? key.slice(0, first) : `${key.slice(0, first)} "${key.slice(first + 1, last).replace(/["\\]/g, '\\$&')}"`;
    const name = key.slice(last + 1);
    const line = `\t${name} = "${value.replace(/["\\]/g, '\\$&').replace(/\n/g, '\\n')}"`;
    sections.set(section, [...(sections.get(section) ?? []), line]);
  }
  return [...sections].map(([section, lines]) => `[${section}]\n${lines.join('\n')}\n`).join('');
}

/** The git dir, common dir and object dirs of a linked worktree, read by git itself. */
async function locate(worktreePath: string): Promise<{ gitDir: string; commonDir: string; objectsDir: string }> {
  const { stdout } = await runGit(worktreePath, ['rev-parse', '--git-dir', '--git-common-dir', '--git-path', 'objects'], {
    env: { GIT_CEILING_DIRECTORIES: dirname(worktreePath) },
  });
  const [gitDir = '', commonDir = '', objects = ''] = stdout.split('\n');
  const g = resolveReal(resolve(worktreePath, gitDir));
  const c = resolveReal(resolve(worktreePath, commonDir));
  if (g === c) throw invalid('not_a_worktree', `${worktreePath} is not a linked worktree`, { path: worktreePath });
  return { gitDir: g, commonDir: c, objectsDir: resolveReal(resolve(worktreePath, objects)) };
}

/** Copies a file that may vanish meanwhile (other git processes rewrite refs all the time). */
function copyIfThere(from: string, to: string): void {
  try {
    copyFileSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** The loose refs, skipping git's lock files and anything that disappears while copying. */
function copyRefs(from: string, to: string): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(from, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  mkdirSync(to, { recursive: true });
  for (const entry of entries) {
    if (entry.name.endsWith('.lock')) continue;
    if (entry.isDirectory()) copyRefs(join(from, entry.name), join(to, entry.name));
    else if (entry.isFile()) copyIfThere(join(from, entry.name), join(to, entry.name));
  }
}

/** Object directories the repository's own `info/alternates` lists (followed one level). */
function alternatesOf(objectsDir: string): string[] {
  const text = readText(join(objectsDir, 'info', 'alternates'));
  if (text === null) return [];
  return text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => resolveReal(resolve(objectsDir, line)));
}

/**
 * Builds the private git dir of a worktree under `dir` (replacing any
 * previous one). Run before the agent (and its setup) starts.
 */
export async function preparePrivateGitDir(worktreePath: string, dir: string): Promise<PrivateGitDir> {
  const worktree = resolveReal(worktreePath);
  const { gitDir: realGitDir, commonDir, objectsDir } = await locate(worktree);
  const gitDir = join(dir, 'gitdir');
  rmSync(gitDir, { recursive: true, force: true });
  mkdirSync(join(gitDir, 'objects', 'info'), { recursive: true, mode: 0o700 });
  mkdirSync(join(gitDir, 'objects', 'pack'), { recursive: true });
  mkdirSync(join(gitDir, 'info'), { recursive: true });
  mkdirSync(join(gitDir, 'logs'), { recursive: true });

  // Refs: a copy (loose and packed), so `git log main..` works; writes stay private.
  mkdirSync(join(gitDir, 'refs', 'heads'), { recursive: true });
  copyRefs(join(commonDir, 'refs'), join(gitDir, 'refs'));
  for (const file of ['packed-refs', 'shallow', 'info/exclude']) copyIfThere(join(commonDir, file), join(gitDir, file));
  for (const file of ['HEAD', 'index']) copyIfThere(join(realGitDir, file), join(gitDir, file));
  writeFileSync(join(gitDir, 'objects', 'info', 'alternates'), `${objectsDir}\n`);
  writeFileSync(join(dir, REAL_OBJECTS_FILE), `${objectsDir}\n`);

  // Config: only what reading the repository and committing need; never its hooks, drivers or credentials helpers.
  const listed = await runGit(worktree, ['config', '--null', '--list']).catch(() => ({ stdout: '' }));
  const entries: [string, string][] = [];
  for (const item of listed.stdout.split('\0')) {
    const at = item.indexOf('\n');
    const key = at < 0 ? item : item.slice(0, at);
    if (key !== '' && COPIED_CONFIG.test(key)) entries.push([key, at < 0 ? 'true' : item.slice(at + 1)]);
  }
  entries.push(['core.bare', 'false'], ['core.logallrefupdates', 'true'], ['gc.auto', '0']);
  writeFileSync(join(gitDir, 'config'), configText(entries));

  const dotGitFile = join(dir, 'dotgit');
  writeFileSync(dotGitFile, `gitdir: ${gitDir}\n`);
  return { gitDir, dotGitFile, objectsDir, alternateDirs: alternatesOf(objectsDir) };
}

/** The private git dir under `dir`, when one was made. */
export function privateGitDirOf(dir: string): string | null {
  const gitDir = join(dir, 'gitdir');
  return existsSync(join(gitDir, 'HEAD')) ? gitDir : null;
}

export interface ImportResult {
  /** The agent branch's commit after the import (unchanged when nothing new). */
  tip: string | null;
  /** The private HEAD's commit when it was not kept on the branch (saved under refs/mosaic/snapshots/). */
  keptHead: string | null;
}

/** Commit ids the private git dir resolves `revs` to (null for each that does not resolve): one git call in the usual case. */
async function privateCommits(gitDir: string, revs: string[]): Promise<(string | null)[]> {
  try {
    const { stdout } = await runGit(gitDir, ['--git-dir', gitDir, 'rev-parse', '--verify', '--end-of-options', ...revs.map((r) => `${r}^{commit}`)], {
      env: { GIT_CEILING_DIRECTORIES: dirname(gitDir) },
    }).catch(() => ({ stdout: '' }));
    const oids = stdout.trim().split('\n');
    if (oids.length === revs.length && oids.every((oid) => /^[0-9a-f]{40,64}$/.test(oid))) return oids;
  } catch {
    // fall through to one at a time
  }
  return Promise.all(revs.map((rev) => privateCommit(gitDir, rev)));
}

/** A commit id the private git dir resolves `rev` to, or null. Reads only refs (no worktree, nothing runs). */
async function privateCommit(gitDir: string, rev: string): Promise<string | null> {
  try {
    const { stdout } = await runGit(gitDir, ['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], {
      env: { GIT_CEILING_DIRECTORIES: dirname(gitDir) },
    });
    const oid = stdout.trim();
    return /^[0-9a-f]{40,64}$/.test(oid) ? oid : null;
  } catch {
    return null;
  }
}

/** Fetches commits (by id) from the private git dir; index-pack re-hashes and fsck-checks every object. */
async function fetchCommits(repoPath: string, gitDir: string, pairs: [string, string][]): Promise<void> {
  await runGit(repoPath, [
    '-c', 'transfer.fsckObjects=true', '-c', 'uploadpack.allowAnySHA1InWant=true', '-c', 'fetch.writeCommitGraph=false', '-c', 'gc.auto=0',
    'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', '--no-auto-gc',
    '--end-of-options', gitDir, ...pairs.map(([oid, ref]) => `+${oid}:${ref}`),
  ], { timeoutMs: IMPORT_TIMEOUT_MS });
}

/**
 * Brings a finished (or stopped) sandboxed agent's commits home: fetches the
 * private HEAD and the private `branch`, and moves the real `branch` to the
 * private HEAD when that contains the private branch (the agent may have
 * worked on a branch of its own), else to the private branch. A private HEAD
 * left elsewhere is kept under refs/mosaic/snapshots/. Agent-planted
 * alternates are dropped first so only its own objects and the repository's
 * are read. Call with the agent stopped.
 */
export async function importPrivateGitDir(repoPath: string, branch: string, dir: string): Promise<ImportResult> {
  const gitDir = privateGitDirOf(dir);
  if (gitDir === null) return { tip: null, keptHead: null };
  const repo = resolveReal(repoPath);
  // The agent may have rewritten its alternates: restore the one recorded where it cannot write.
  const objects = readText(join(dir, REAL_OBJECTS_FILE))?.trim()
    || (await runGit(repo, ['rev-parse', '--path-format=absolute', '--git-path', 'objects'])).stdout.trim();
  writeFileSync(join(gitDir, 'objects', 'info', 'alternates'), `${objects}\n`);
  rmSync(join(gitDir, 'objects', 'info', 'http-alternates'), { force: true });

  const [head = null, own = null] = await privateCommits(gitDir, ['HEAD', `refs/heads/${branch}`]);
  const current = (await runGit(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]).catch(() => ({ stdout: '' }))).stdout.trim();
  const wanted = [...new Set([head, own].filter((oid): oid is string => oid !== null && oid !== current))];
  if (wanted.length === 0) return { tip: current || null, keptHead: null }; // nothing new: the usual case for an agent that never committed

  const tag = `${basename(dir)}-${process.pid}-${Date.now()}`;
  const refs = wanted.map((_, i) => `${IMPORT_REF_PREFIX}${tag}/${i}`);
  try {
    await fetchCommits(repo, gitDir, wanted.map((oid, i) => [oid, refs[i] as string]));
    let tip = own;
    let keptHead: string | null = null;
    if (head !== null && head !== own) {
      const contains = own === null || (await runGit(repo, ['merge-base', '--is-ancestor', own, head]).then(() => true, () => false));
      if (contains) tip = head;
      else keptHead = head;
    }
    if (tip !== null && tip !== current) {
      await withLockRetry(() => runGit(repo, ['update-ref', '-m', 'mosaic: import from sandbox', `refs/heads/${branch}`, tip as string, current]));
    }
    if (keptHead !== null && keptHead !== current) {
      const ref = `${SNAPSHOT_REF_PREFIX}${branch}/${Date.now()}-head`;
      await withLockRetry(() => runGit(repo, ['update-ref', '-m', 'mosaic: sandbox HEAD off the agent branch', ref, keptHead as string]));
    }
    return { tip: tip ?? (current || null), keptHead };
  } finally {
    for (const ref of refs) await runGit(repo, ['update-ref', '-d', ref]).catch(() => undefined);
  }
}
