import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { conflict, invalid, MosaicError } from '../core/errors.js';
import { assertBranchName, assertRefName } from './refs.js';
import { resolveCommit } from './repo.js';
import { GitError, runGit } from './run.js';

/**
 * A repository shared by URL (DESIGN §7, issue 21): each node keeps its own
 * clone and exchanges branches with the remote. Everything here talks to a
 * URL the registry validated (`checkRemoteUrl`): only ssh, https and file
 * transports, never one git could read as an option, never a submodule, and
 * never a program the remote carries — a file:// remote's own hooks would
 * run on this host in the receive-pack git starts for a push (the
 * environment's `core.hooksPath` does not reach it: git clears config from
 * the environment of a local transport's other end), so its upload-pack and
 * receive-pack are started with hooks off on their command line.
 */

const MAX_URL = 2048;
const NO_HOOKS_UPLOAD = 'git -c core.hooksPath=/dev/null upload-pack';
const NO_HOOKS_RECEIVE = 'git -c core.hooksPath=/dev/null receive-pack';

/** Transports allowed and everything a remote could make git fetch besides the repository itself, off. */
export const REMOTE_SAFE_ARGS: readonly string[] = [
  '-c', 'protocol.allow=never', '-c', 'protocol.file.allow=always', '-c', 'protocol.https.allow=always',
  '-c', 'protocol.ssh.allow=always', '-c', 'submodule.recurse=false', '-c', 'fetch.recurseSubmodules=false',
  '-c', 'push.recurseSubmodules=no', '-c', 'core.hooksPath=/dev/null', '-c', 'credential.interactive=false',
];

/** The transport a URL names: `file`, `https` or `ssh` (scp-like `user@host:path` included). */
export type RemoteScheme = 'file' | 'https' | 'ssh';

/**
 * Checks a repository URL given to `POST /repos {url}`; 400 `invalid_repo_url`
 * for anything but `https://`, `ssh://`, scp-like `[user@]host:path` and
 * `file:///absolute/path`: no `ext::`/`fd::` helpers, no plain http, no
 * option-looking value, no whitespace or control characters.
 */
export function checkRemoteUrl(url: unknown): { url: string; scheme: RemoteScheme } {
  const bad = (why: string): MosaicError => invalid('invalid_repo_url', `url ${why}`, { field: 'url' });
  if (typeof url !== 'string' || url === '') throw bad('must be a non-empty string');
  if (url.length > MAX_URL) throw bad(`must be at most ${MAX_URL} characters`);
  if (url.startsWith('-')) throw bad('must not start with "-"');
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(url)) throw bad('must not contain whitespace or control characters');
  if (url.includes('::')) throw bad('must not name a transport helper (<transport>::<address>)');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme === 'https') return { url, scheme: 'https' };
    if (scheme === 'ssh') {
      if (/^ssh:\/\/-/i.test(url)) throw bad('must not name a host starting with "-"');
      return { url, scheme: 'ssh' };
    }
    if (scheme === 'file') {
      if (!url.startsWith('file:///')) throw bad('file:// must name an absolute path (file:///path)');
      return { url, scheme: 'file' };
    }
    throw bad(`scheme ${scheme}:// is not supported (https://, ssh://, user@host:path or file:///path)`);
  }
  // scp-like: [user@]host:path, where the host part has no slash (git reads "a/b:c" as a local path).
  const scp = /^(?:[A-Za-z0-9._~-]+@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(.+)$/.exec(url);
  if (scp && !scp[1]!.startsWith('-') && scp[1]!.length > 1) return { url, scheme: 'ssh' };
  throw bad('is not a URL git can share (https://, ssh://, user@host:path or file:///path)');
}

function packArgs(url: string, kind: 'upload' | 'receive'): string[] {
  if (checkRemoteUrl(url).scheme !== 'file') return [];
  return kind === 'upload' ? [`--upload-pack=${NO_HOOKS_UPLOAD}`] : [`--receive-pack=${NO_HOOKS_RECEIVE}`];
}

/** Where the remote's branches are kept in a clone. */
export const REMOTE_BRANCHES = 'refs/remotes/origin/';

/**
 * Clones `url` into `dir` (which must not exist) without a checkout: a main
 * work tree with a detached HEAD and an empty index, so no branch is checked
 * out there (lands never find a dirty target) and no file of the remote is
 * ever written by the clone. Made beside `dir` and renamed into place, so a
 * half-made clone is never used. Returns the remote's default branch.
 */
export async function cloneRemote(url: string, dir: string, timeoutMs: number): Promise<string | null> {
  checkRemoteUrl(url);
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(dir), `.clone-${randomUUID()}`);
  try {
    await runGit(dirname(dir), [...REMOTE_SAFE_ARGS, 'clone', '--no-checkout', '--no-tags', '--no-recurse-submodules', '--origin', 'origin',
      ...packArgs(url, 'upload'), '--template=', '--end-of-options', url, tmp], { timeoutMs });
    let branch: string | null = null;
    try {
      branch = (await runGit(tmp, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim() || null;
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
    }
    const head = branch === null ? null : await resolveCommit(tmp, `refs/heads/${branch}`);
    // Detach HEAD (an empty remote has no commit yet: HEAD stays unborn).
    if (head !== null) await runGit(tmp, ['update-ref', '--no-deref', 'HEAD', head]);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    return branch;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The URL a clone was made from (`remote.origin.url`), or null when it has none. */
export async function cloneUrl(dir: string): Promise<string | null> {
  try {
    return (await runGit(dir, ['config', '--get', 'remote.origin.url'])).stdout.trim() || null;
  } catch {
    return null;
  }
}

/** Every branch of the remote into `refs/remotes/origin/*` (pruned), bounded by `timeoutMs`. */
export async function fetchRemote(dir: string, url: string, timeoutMs: number): Promise<void> {
  await runGit(dir, [...REMOTE_SAFE_ARGS, 'fetch', '--prune', '--no-tags', '--no-recurse-submodules', '--no-write-fetch-head',
    ...packArgs(url, 'upload'), '--end-of-options', url, `+refs/heads/*:${REMOTE_BRANCHES}*`], { timeoutMs });
}

/**
 * Sets the local branch to the remote's when the remote has it and the local
 * one is missing or behind (`force`: whatever the local one holds). Returns
 * the commit the local branch points to afterwards (null when neither has it).
 */
export async function adoptRemoteBranch(dir: string, branch: string, force: boolean): Promise<string | null> {
  assertBranchName('branch', branch);
  const [local, remote] = await Promise.all([resolveCommit(dir, `refs/heads/${branch}`), resolveCommit(dir, `${REMOTE_BRANCHES}${branch}`)]);
  if (remote === null || remote === local) return local;
  if (local !== null && !force) {
    const behind = await runGit(dir, ['merge-base', '--is-ancestor', local, remote]).then(() => true, () => false);
    if (!behind) return local;
  }
  await runGit(dir, ['update-ref', '-m', 'mosaic: from the remote', `refs/heads/${branch}`, remote, ...(local === null ? [] : [local])]);
  return remote;
}

export interface RemotePush {
  /** A commit or a local ref. */
  source: string;
  /** The branch on the remote. */
  branch: string;
  /**
   * Compare-and-swap: the commit the remote's branch must point to now
   * (`--force-with-lease`); undefined forces the update (Mosaic's own agent branches).
   */
  expected?: string;
}

/**
 * Pushes one ref to the remote, never running a hook on either side. With
 * `expected`, a remote branch that moved meanwhile is 409 `target_moved`;
 * any other failure 502 `push_failed`.
 */
export async function pushRemote(dir: string, url: string, push: RemotePush, timeoutMs: number): Promise<void> {
  assertBranchName('branch', push.branch);
  assertRefName('source', push.source);
  const ref = `refs/heads/${push.branch}`;
  const lease = push.expected === undefined ? [] : [`--force-with-lease=${ref}:${push.expected}`];
  const refspec = `${push.expected === undefined ? '+' : ''}${push.source}:${ref}`;
  try {
    await runGit(dir, [...REMOTE_SAFE_ARGS, 'push', '--porcelain', '--no-verify', '--no-recurse-submodules', ...lease,
      ...packArgs(url, 'receive'), '--end-of-options', url, refspec], { timeoutMs });
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    const detail = `${err.stdout}\n${err.stderr}`;
    if (push.expected !== undefined && /stale info|\[rejected\]|non-fast-forward|fetch first/.test(detail)) {
      throw conflict('target_moved', `${push.branch} moved on the remote since it was read; fetch and land again`,
        { into: push.branch, retryable: true });
    }
    throw new MosaicError(502, 'push_failed', `git push to the repository's remote failed: ${err.stderr.trim().split('\n').pop() ?? err.message}`,
      { branch: push.branch });
  }
}

const CHECKPOINT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Mosaic', GIT_AUTHOR_EMAIL: 'mosaic@localhost',
  GIT_COMMITTER_NAME: 'Mosaic', GIT_COMMITTER_EMAIL: 'mosaic@localhost',
};

/**
 * A checkpoint commit: a captured worktree tree on top of its HEAD, made in
 * the object database only (no ref, no index, no worktree file touched).
 */
export async function commitCheckpoint(repoPath: string, tree: string, parent: string, message: string): Promise<string> {
  return (await runGit(repoPath, ['commit-tree', '--no-gpg-sign', '-p', parent, tree], { input: `${message}\n`, env: CHECKPOINT_IDENTITY })).stdout.trim();
}
