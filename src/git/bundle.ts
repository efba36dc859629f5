import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conflict, invalid, MosaicError, notFound } from '../core/errors.js';
import { resolveCommit } from './repo.js';
import { assertBranchName, assertRefName, isAgentBranchName } from './refs.js';
import { GitError, runGit } from './run.js';
import { SAFE_CHECKOUT_ARGS } from './safe.js';

/**
 * An agent's branch travelling between instances as a git bundle: only the
 * commits since it forked from its base, so the receiver must already have
 * that fork point. Bundles are files in a private temp directory, size
 * capped on both sides; nothing is written to a repository until the bundle
 * verified and its prerequisite is known to be there.
 */

export interface BranchBundle {
  bytes: Buffer;
  /** The fork point the bundle is relative to (its prerequisite). */
  base: string;
  /** The branch tip it carries. */
  head: string;
}

const HEX = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function tooLarge(size: number, max: number): MosaicError {
  return new MosaicError(413, 'bundle_too_large', `the bundle is ${size} bytes; the limit is ${max} (MOSAIC_BUNDLE_MAX_BYTES)`, { size, limit: max });
}

function withTempDir<T>(task: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'mosaic-bundle-'));
  return task(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Bundles `branch` relative to where it forked from `baseRef`. */
export async function createBranchBundle(repoPath: string, branch: string, baseRef: string, maxBytes: number): Promise<BranchBundle> {
  assertBranchName('branch', branch);
  assertRefName('baseRef', baseRef);
  const [head, baseTip] = await Promise.all([resolveCommit(repoPath, `refs/heads/${branch}`), resolveCommit(repoPath, baseRef)]);
  if (head === null) throw notFound('branch_not_found', `branch ${branch} does not exist`);
  if (baseTip === null) throw notFound('unknown_ref', `base ${baseRef} does not resolve to a commit`);
  const base = (await runGit(repoPath, ['merge-base', baseTip, head])).stdout.trim();
  if (base === head) throw conflict('nothing_to_fetch', `branch ${branch} has no commits beyond its base`, { branch });
  return withTempDir(async (dir) => {
    const file = join(dir, 'agent.bundle');
    await runGit(repoPath, ['bundle', 'create', '--quiet', file, `refs/heads/${branch}`, `^${base}`], { timeoutMs: 10 * 60_000 });
    const size = statSync(file).size;
    if (size > maxBytes) throw tooLarge(size, maxBytes);
    return { bytes: readFileSync(file), base, head };
  });
}

export interface ImportBundleOptions {
  repoPath: string;
  bytes: Buffer;
  /** Local branch to write (`refs/heads/<branch>`). */
  branch: string;
  /** The tip the sender said the bundle carries. */
  head: string;
  /** The fork point the sender said the bundle needs. */
  base: string;
  maxBytes: number;
}

/**
 * Checks the bundle (size, `git bundle verify`: well-formed and every
 * prerequisite present; exactly one ref, `refs/heads/<branch>` at the
 * announced head; every object it brings passes `index-pack --strict` in a
 * quarantine), then fetches it into `refs/heads/<branch>`, which must be an
 * agent branch: what a bundle carries never picks or moves any other ref.
 * An existing branch is only moved forward (never loses commits).
 */
export async function importBranchBundle(opts: ImportBundleOptions): Promise<{ branch: string; commit: string }> {
  const branch = assertBranchName('branch', opts.branch);
  if (!isAgentBranchName(branch)) {
    throw invalid('invalid_branch', `work from a bundle is fetched only into an agent branch (agent-<id>-<task>), not '${branch}'`, { field: 'branch' });
  }
  if (!HEX.test(opts.head) || !HEX.test(opts.base)) throw invalid('invalid_bundle', 'bundle head and base must be commit ids');
  if (opts.bytes.length > opts.maxBytes) throw tooLarge(opts.bytes.length, opts.maxBytes);
  if ((await resolveCommit(opts.repoPath, opts.base)) === null) {
    throw conflict('base_missing', `this repository does not have the base commit ${opts.base.slice(0, 12)} the agent's work starts from; fetch or pull it first`,
      { base: opts.base });
  }
  return withTempDir(async (dir) => {
    const file = join(dir, `${randomUUID()}.bundle`);
    writeFileSync(file, opts.bytes, { mode: 0o600 });
    let listed: string;
    try {
      await runGit(opts.repoPath, ['bundle', 'verify', '--quiet', file]);
      listed = (await runGit(opts.repoPath, ['bundle', 'list-heads', file])).stdout;
    } catch (err) {
      const why = err instanceof GitError ? err.stderr.trim().split('\n').slice(-1)[0] ?? '' : String(err);
      if (/lacks these prerequisite|prerequisite commits/i.test(why)) throw conflict('base_missing', `the bundle needs commits this repository lacks: ${why}`);
      throw invalid('invalid_bundle', `the bundle does not verify: ${why}`);
    }
    const ref = `refs/heads/${branch}`;
    const heads = listed.split('\n').filter(Boolean).map((line) => line.split(' '));
    if (heads.length !== 1 || heads[0]?.[0] !== opts.head || heads[0]?.[1] !== ref) {
      // The names are the sender's: shown cut short, as data.
      throw invalid('invalid_bundle', `the bundle must carry exactly one ref, ${ref} at the announced tip; it carries ${heads.length}`,
        { refs: heads.slice(0, 5).map((h) => (h[1] ?? '').slice(0, 200)) });
    }
    await checkBundleObjects(opts.repoPath, opts.bytes, dir);
    const current = await resolveCommit(opts.repoPath, ref);
    if (current === opts.head) return { branch, commit: opts.head };
    // Fetch the objects under a private ref, then move the branch with a CAS (fast-forward only).
    const temp = `refs/mosaic/fetch/${randomUUID()}`;
    try {
      await runGit(opts.repoPath, [...SAFE_CHECKOUT_ARGS, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', file, `+${ref}:${temp}`], { timeoutMs: 10 * 60_000 });
      if (current !== null) {
        const ff = await runGit(opts.repoPath, ['merge-base', '--is-ancestor', current, opts.head]).then(() => true, () => false);
        if (!ff) throw conflict('branch_diverged', `${branch} exists here with commits the fetched work does not have`, { branch });
      }
      await runGit(opts.repoPath, [...SAFE_CHECKOUT_ARGS, 'update-ref', '-m', 'mosaic: fetch agent work', ref, opts.head, current ?? '']);
    } finally {
      await runGit(opts.repoPath, ['update-ref', '-d', temp]).catch(() => undefined);
    }
    return { branch, commit: opts.head };
  });
}

/**
 * Every object the bundle brings, checked by `index-pack --strict` (git's
 * fsck checks: a tree naming `.git`, a malformed commit, a missing link)
 * into a quarantine object directory that has the repository's objects as
 * alternates (the bundle's pack is thin). Nothing reaches the repository
 * when a check fails. Needed because `git fetch` from a bundle does not
 * apply fetch.fsckObjects (git 2.39).
 */
async function checkBundleObjects(repoPath: string, bytes: Buffer, dir: string): Promise<void> {
  // A bundle is its header (lines, ended by an empty line) and then a pack; `bundle verify` has read the header.
  const end = bytes.indexOf('\n\n');
  if (end < 0) throw invalid('invalid_bundle', 'the bundle carries no pack');
  const quarantine = join(dir, 'quarantine');
  mkdirSync(join(quarantine, 'pack'), { recursive: true });
  const objects = (await runGit(repoPath, ['rev-parse', '--path-format=absolute', '--git-path', 'objects'])).stdout.trim();
  try {
    await runGit(repoPath, ['index-pack', '--strict', '--fix-thin', '--stdin'], {
      input: bytes.subarray(end + 2),
      env: { GIT_OBJECT_DIRECTORY: quarantine, GIT_ALTERNATE_OBJECT_DIRECTORIES: objects },
      timeoutMs: 10 * 60_000,
    });
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    const why = err.stderr.trim().split('\n').filter((l) => !l.startsWith('fatal:')).slice(-1)[0] ?? err.stderr.trim().slice(-200);
    throw invalid('invalid_bundle', `the bundle's objects fail git's checks: ${why.slice(0, 300)}`);
  }
}
