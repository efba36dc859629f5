import { constants, readdirSync } from 'node:fs';
import { cp, lstat, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assertInside, isIgnoredDir, resolveReal } from '../../git/index.js';
import type { AgentUser } from '../sandbox/index.js';
import { addLayer, allLayerRoots, lowersUnder } from './layers.js';
import type { ShareMode } from './mode.js';
import { sharedSnapshot } from './snapshot.js';

export interface SharedDir {
  dir: string;
  mode: ShareMode;
}

export interface ProvideInput {
  home: string;
  repoName: string;
  repoPath: string;
  worktree: string;
  dirs: readonly string[];
  mode: ShareMode;
  /** Where the worktree's private layers go (`overlay` mode). */
  layersRoot: string;
  /** As root, the agent user: an overlay's snapshot is its (a write through the overlay is a copy-up of a file it must own). */
  owner?: AgentUser | null;
}

function isEmptyDir(path: string): boolean {
  try {
    return readdirSync(path).length === 0;
  } catch {
    return false;
  }
}

/**
 * Gives each shareDirs entry of the main checkout to a new worktree:
 * - `reflink`: a copy-on-write clone in the worktree (its own files, shared blocks);
 * - `overlay`: an empty mount point in the worktree and a private layer over
 *   the read-only snapshot, mounted by the sandbox of every process that runs
 *   there (setup, agent);
 * - `copy`: a plain copy (safe, but no disk saved).
 * A directory missing in the main checkout (or a symlink there) is skipped; one
 * the worktree already has (tracked content) is left alone; so is one the
 * worktree's .gitignore does not ignore (registration refuses those, but the
 * base branch may have changed since): its content would be committed work,
 * and in `overlay` mode an agent's writes there would never reach a snapshot. Symlinks inside
 * are copied as links, never followed.
 */
export async function provideShareDirs(input: ProvideInput): Promise<SharedDir[]> {
  if (input.dirs.length === 0) return [];
  const repo = resolveReal(input.repoPath);
  const worktree = resolveReal(input.worktree);
  const done: SharedDir[] = [];
  for (const dir of input.dirs) {
    const source = join(repo, dir);
    const info = await lstat(source).catch(() => null);
    if (!info?.isDirectory()) continue; // absent, or a symlink that could point anywhere
    const src = assertInside(repo, source);
    if (src === join(repo, '.git') || src.startsWith(join(repo, '.git') + '/')) continue;
    const dest = assertInside(worktree, join(worktree, dir));
    const there = await lstat(dest).catch(() => null);
    if (!there && !(await isIgnoredDir(worktree, dir))) continue;
    if (input.mode === 'overlay') {
      if (there && !(there.isDirectory() && isEmptyDir(dest))) continue;
      await mkdir(dest, { recursive: true });
      await sharedSnapshot(input.home, input.repoName, dir, src, () => lowersUnder(allLayerRoots(input.home)),
        (snapshot) => addLayer(input.layersRoot, dir, snapshot), input.owner ?? null);
    } else {
      if (there) continue;
      await mkdir(dirname(dest), { recursive: true });
      await cp(src, dest, {
        recursive: true, verbatimSymlinks: true, preserveTimestamps: true, errorOnExist: false, force: false,
        mode: input.mode === 'reflink' ? constants.COPYFILE_FICLONE_FORCE : 0,
      });
    }
    done.push({ dir, mode: input.mode });
  }
  return done;
}
