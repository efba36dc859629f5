import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { invalid } from '../core/errors.js';
import { resolveReal } from './paths.js';
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
 * Builds the private git dir of a worktree as `dir/gitdir`, which must not
 * exist (the caller removes an earlier one). Run before the agent (and its setup) starts.
 */
export async function preparePrivateGitDir(worktreePath: string, dir: string): Promise<PrivateGitDir> {
  const worktree = resolveReal(worktreePath);
  const { gitDir: realGitDir, commonDir, objectsDir } = await locate(worktree);
  const gitDir = join(dir, 'gitdir');
  // Made fresh (the caller removed any earlier one without following links): never written through what an agent left.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  mkdirSync(gitDir, { mode: 0o700 });
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

