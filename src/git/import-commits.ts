import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { invalid } from '../core/errors.js';
import { repoLayout } from './layout.js';
import { resolveReal } from './paths.js';
import { resolveCommit } from './repo.js';
import { runGit, withLockRetry } from './run.js';
import { SNAPSHOT_REF_PREFIX } from './snapshot.js';

/**
 * Bringing a sandboxed agent's commits home (DESIGN §3 "Hostile input").
 *
 * The caller has copied the agent's object files (never through a link) into
 * `<view>/objects`, a directory Mosaic owns, and read the commit ids the
 * agent's HEAD and branch name. Here `<view>` becomes a bare git dir whose
 * config, HEAD and alternates Mosaic writes (the repository's object
 * directory, read-only to git here), so nothing the agent wrote is config,
 * an alternate or a ref. From it exactly the objects of the agent's commits
 * that the repository lacks are packed by id (`pack-objects --revs`, work
 * proportional to those commits) and indexed into the repository with
 * `index-pack --strict` (every object re-hashed and fsck-checked, every link
 * present). Then only `refs/heads/<branch>` is moved, with a compare-and-swap.
 *
 * No ref walk of the repository happens (no `fetch`, whose connectivity check
 * reads every worktree's HEAD): a broken or half-made `.git/worktrees/*`
 * entry elsewhere, or one being created right now, changes nothing here.
 */

const IMPORT_TIMEOUT_MS = 10 * 60_000;
const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export interface AgentTips {
  /** The commit the agent's HEAD names, or null (unborn, unreadable). */
  head: string | null;
  /** The commit the agent's `refs/heads/<branch>` names, or null. */
  own: string | null;
}

export interface ImportResult {
  /** The agent branch's commit after the import (unchanged when nothing new). */
  tip: string | null;
  /** The private HEAD's commit when it was not kept on the branch (saved under refs/mosaic/snapshots/). */
  keptHead: string | null;
}

/** The agent's tips the repository's `refs/heads/<branch>` is not at yet (none: nothing to import), and where the branch is. */
export async function newTips(repoPath: string, branch: string, tips: AgentTips): Promise<{ current: string | null; wanted: string[] }> {
  for (const oid of [tips.head, tips.own]) {
    if (oid !== null && !OID.test(oid)) throw invalid('invalid_object_id', `not an object id: ${JSON.stringify(oid)}`);
  }
  const current = await resolveCommit(repoPath, `refs/heads/${branch}`);
  return { current, wanted: wantedOf(tips, current) };
}

const wantedOf = (tips: AgentTips, current: string | null): string[] =>
  [...new Set([tips.head, tips.own].filter((oid): oid is string => oid !== null && oid !== current))];

/** Makes `view` (holding `objects/` already) a bare git dir of Mosaic's: config, HEAD, refs, alternates. Returns the repository's object dir. */
async function makeView(repo: string, view: string): Promise<string> {
  const { commonDir, objectsDir, format } = await repoLayout(repo);
  mkdirSync(join(view, 'objects', 'info'), { recursive: true, mode: 0o700 });
  mkdirSync(join(view, 'refs'), { recursive: true });
  writeFileSync(join(view, 'HEAD'), 'ref: refs/heads/mosaic-import-view\n');
  const extensions = format === 'sha1' ? '' : `[extensions]\n\tobjectformat = ${format}\n`;
  writeFileSync(join(view, 'config'), `[core]\n\trepositoryformatversion = ${format === 'sha1' ? 0 : 1}\n\tbare = true\n[gc]\n\tauto = 0\n${extensions}`);
  // The repository's own objects (and, through its alternates file, what it borrows): git reads them, never writes.
  writeFileSync(join(view, 'objects', 'info', 'alternates'), `${objectsDir}\n`);
  // A shallow repository's grafts, so a walk stops where the repository's history does.
  try {
    copyFileSync(join(commonDir, 'shallow'), join(view, 'shallow'));
  } catch {
    // not shallow
  }
  return objectsDir;
}

/** `git --git-dir <view> …`, never looking above it for another repository. */
function inView(view: string, args: string[], opts: { input?: string } = {}) {
  return runGit(view, ['--git-dir', view, ...args], { env: { GIT_CEILING_DIRECTORIES: dirname(view) }, timeoutMs: IMPORT_TIMEOUT_MS, ...opts });
}

/**
 * Imports `wanted` (commits of the agent, by id) from `view` into the
 * repository and moves `refs/heads/<branch>` from `current` to the agent's
 * tip: its HEAD when that contains its branch, else its branch (a HEAD left
 * elsewhere is kept under refs/mosaic/snapshots/). Throws when a commit is
 * missing, is not a commit, or fails fsck; the branch is then unchanged.
 */
export async function importCommits(repoPath: string, branch: string, tips: AgentTips, view: string, current: string | null): Promise<ImportResult> {
  const repo = resolveReal(repoPath);
  const wanted = wantedOf(tips, current);
  if (wanted.length === 0) return { tip: current, keptHead: null };
  const objectsDir = await makeView(repo, view);
  // Each tip must be a commit (peeled with ^{commit}, else pack-objects fails) whose objects the view
  // holds in full before anything is written to the repository.
  const { stdout: packName } = await inView(view, ['pack-objects', '--revs', '-q', '--delta-base-offset', join(view, 'import')], {
    input: `${wanted.map((oid) => `${oid}^{commit}`).join('\n')}\n${current === null ? '' : `^${current}\n`}`,
  });
  const pack = join(view, `import-${packName.trim()}.pack`);
  const { stdout: indexed } = await runGit(repo, ['index-pack', '--stdin', '--strict', '--keep=mosaic: sandbox import'], {
    inputFile: pack, timeoutMs: IMPORT_TIMEOUT_MS,
  });
  // `--keep` protects the new pack from a concurrent gc until the branch holds its commits.
  const keepHash = /^(?:keep|pack)\t([0-9a-f]+)$/m.exec(indexed)?.[1];
  const keepFile = keepHash === undefined ? null : join(objectsDir, 'pack', `pack-${keepHash}.keep`);
  try {
    let tip = tips.own;
    let keptHead: string | null = null;
    const { head, own } = tips;
    if (head !== null && head !== own) {
      const contains = own === null || (await runGit(repo, ['merge-base', '--is-ancestor', '--end-of-options', own, head]).then(() => true, () => false));
      if (contains) tip = head;
      else keptHead = head;
    }
    if (tip !== null && tip !== current) {
      const target = tip;
      await withLockRetry(() => runGit(repo, ['update-ref', '-m', 'mosaic: import from sandbox', '--end-of-options', `refs/heads/${branch}`, target, current ?? '']));
    }
    if (keptHead !== null && keptHead !== current) {
      const kept = keptHead;
      const ref = `${SNAPSHOT_REF_PREFIX}${branch}/${Date.now()}-head`;
      await withLockRetry(() => runGit(repo, ['update-ref', '-m', 'mosaic: sandbox HEAD off the agent branch', '--end-of-options', ref, kept]));
    }
    return { tip: tip ?? current, keptHead };
  } finally {
    if (keepFile !== null) rmSync(keepFile, { force: true });
  }
}

/** Deletes a view made by `importCommits` (Mosaic's own directory: nothing of the agent's is in it but copies). */
export function removeView(view: string): void {
  rmSync(view, { recursive: true, force: true });
}
