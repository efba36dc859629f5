import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { invalid } from '../core/errors.js';
import { resolveReal } from './paths.js';
import { readText } from './quiet-fs.js';
import { runGit } from './run.js';

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
 * Everything in the private dir is the agent's to rewrite once it runs, so
 * Mosaic writes into it only here, before the agent starts, in a directory
 * it has just made. The work comes home without touching it again
 * (import-commits.ts and agents/sandbox/agent-import.ts: its object files
 * copied out without following links, re-hashed and checked by index-pack,
 * then a compare-and-swap of the agent's real branch). The real index and HEAD of the worktree are
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

/** Where the object view of a `baseOnly` git dir is made, beside `gitdir` (bound read-only, never agent-writable). */
export const BASE_VIEW_DIR = 'base-objects';

/** Packs kept per base commit in the cache: the newest this many per repository. */
const CACHED_BASES = 4;

/** Made once per base commit: `pack-objects --revs` (which also takes what the repository borrows through its alternates). */
async function cachedBasePack(repoPath: string, commonDir: string, commit: string, cacheRoot: string): Promise<string> {
  const root = join(cacheRoot, createHash('sha256').update(commonDir).digest('hex').slice(0, 16));
  const ready = join(root, commit);
  if (existsSync(join(ready, 'done'))) {
    const now = new Date();
    utimesSync(ready, now, now); // recently used: kept longest
    return ready;
  }
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const building = mkdtempSync(join(root, `.${commit}-`));
  try {
    await runGit(repoPath, ['pack-objects', '--revs', '--quiet', '--', join(building, 'pack')], { input: `${commit}\n`, timeoutMs: 30 * 60_000 });
    writeFileSync(join(building, 'done'), '');
    try {
      renameSync(building, ready);
    } catch (err) {
      // Another launch made it meanwhile: theirs is as good.
      if (!existsSync(join(ready, 'done'))) throw err;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  const others = readdirSync(root).filter((name) => /^[0-9a-f]{40,64}$/.test(name) && name !== commit)
    .map((name) => ({ name, at: statSync(join(root, name)).mtimeMs })).sort((a, b) => b.at - a.at);
  for (const old of others.slice(CACHED_BASES - 1)) rmSync(join(root, old.name), { recursive: true, force: true });
  return ready;
}

/**
 * An object directory holding exactly the objects reachable from `commit`, at
 * `dir` (which must not exist): the base's pack from the cache, hard-linked
 * (copied across filesystems), so a later eviction never takes it from an
 * agent that runs on it.
 */
async function buildBaseView(repoPath: string, commonDir: string, commit: string, dir: string, cacheRoot: string): Promise<string> {
  const packs = await cachedBasePack(repoPath, commonDir, commit, cacheRoot);
  mkdirSync(join(dir, 'info'), { recursive: true, mode: 0o755 });
  mkdirSync(join(dir, 'pack'), { mode: 0o755 });
  for (const name of readdirSync(packs).filter((n) => /^pack-[0-9a-f]+\.(pack|idx)$/.test(n))) {
    try {
      linkSync(join(packs, name), join(dir, 'pack', name));
    } catch {
      copyFileSync(join(packs, name), join(dir, 'pack', name));
    }
  }
  return dir;
}

export interface PrivateGitDirOptions {
  /**
   * A peer's agent: its git sees only the objects reachable from the commit
   * its worktree starts on (a pack made for it, instead of the repository's
   * object store) and only its own branch and HEAD among the refs. Local
   * agents share the repository's objects read-only. The value is the
   * directory where base packs are cached (one per base commit, a few per
   * repository), which no agent can reach.
   */
  baseOnly?: { cacheDir: string };
}

/**
 * Builds the private git dir of a worktree as `dir/gitdir`, which must not
 * exist (the caller removes an earlier one). Run before the agent (and its setup) starts.
 */
export async function preparePrivateGitDir(worktreePath: string, dir: string, opts: PrivateGitDirOptions = {}): Promise<PrivateGitDir> {
  const worktree = resolveReal(worktreePath);
  // Two independent questions to git, asked at once.
  const [located, listed] = await Promise.all([
    locate(worktree),
    runGit(worktree, ['config', '--null', '--list']).catch(() => ({ stdout: '' })),
  ]);
  const { gitDir: realGitDir, commonDir } = located;
  let objectsDir = located.objectsDir;
  const gitDir = join(dir, 'gitdir');
  // Made fresh (the caller removed any earlier one without following links): never written through what an agent left.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(gitDir, { mode: 0o700 });
  mkdirSync(join(gitDir, 'objects', 'info'), { recursive: true, mode: 0o700 });
  mkdirSync(join(gitDir, 'objects', 'pack'), { recursive: true });
  mkdirSync(join(gitDir, 'info'), { recursive: true });
  mkdirSync(join(gitDir, 'logs'), { recursive: true });

  mkdirSync(join(gitDir, 'refs', 'heads'), { recursive: true });
  if (opts.baseOnly) {
    // Only what it starts on: its HEAD, its own branch at that commit, and the objects reachable from it.
    const head = (await runGit(worktree, ['rev-parse', '--verify', '--end-of-options', 'HEAD^{commit}'])).stdout.trim();
    // The worktree's HEAD in the repository's own admin entry (no agent writes there): the branch it is on.
    const symbolic = /^ref: (refs\/heads\/\S+)$/.exec(readText(join(realGitDir, 'HEAD'))?.trim() ?? '')?.[1] ?? '';
    objectsDir = await buildBaseView(worktree, commonDir, head, join(dir, BASE_VIEW_DIR), opts.baseOnly.cacheDir);
    if (symbolic.startsWith('refs/heads/')) {
      mkdirSync(dirname(join(gitDir, symbolic)), { recursive: true });
      writeFileSync(join(gitDir, symbolic), `${head}\n`);
      writeFileSync(join(gitDir, 'HEAD'), `ref: ${symbolic}\n`);
    } else {
      writeFileSync(join(gitDir, 'HEAD'), `${head}\n`);
    }
    for (const file of ['shallow', 'info/exclude']) copyIfThere(join(commonDir, file), join(gitDir, file));
    copyIfThere(join(realGitDir, 'index'), join(gitDir, 'index'));
  } else {
    // Refs: a copy (loose and packed), so `git log main..` works; writes stay private.
    copyRefs(join(commonDir, 'refs'), join(gitDir, 'refs'));
    for (const file of ['packed-refs', 'shallow', 'info/exclude']) copyIfThere(join(commonDir, file), join(gitDir, file));
    for (const file of ['HEAD', 'index']) copyIfThere(join(realGitDir, file), join(gitDir, file));
  }
  writeFileSync(join(gitDir, 'objects', 'info', 'alternates'), `${objectsDir}\n`);

  // Config: only what reading the repository and committing need; never its hooks, drivers or credentials helpers.
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
  return { gitDir, dotGitFile, objectsDir, alternateDirs: opts.baseOnly ? [] : alternatesOf(objectsDir) };
}

