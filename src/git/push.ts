import { execFile } from 'node:child_process';
import { conflict, invalid, MosaicError } from '../core/errors.js';
import { assertBranchName } from './refs.js';
import { resolveCommit } from './repo.js';
import { GitError, runGit, sanitizedEnv } from './run.js';
import { SAFE_CHECKOUT_ARGS } from './safe.js';

/**
 * Sending an agent's branch to one of the repository's own git remotes, and
 * optionally opening a pull request for it with the `gh` CLI. The remote must
 * be one the repository already has (`git remote`): a caller names it, never
 * gives a URL, so a request cannot point git at a transport or host of its
 * choosing. The push never runs hooks (pre-push included) and never forces.
 */

export interface PushedBranch {
  remote: string;
  branch: string;
  commit: string;
  /** The pull request's URL, when one was opened. */
  pr?: string;
}

export interface PullRequestText {
  base: string;
  title: string;
  body: string;
}

const PUSH_TIMEOUT_MS = 120_000;
const GH_TIMEOUT_MS = 60_000;

async function assertKnownRemote(repoPath: string, remote: string): Promise<void> {
  const remotes = (await runGit(repoPath, ['remote'])).stdout.split('\n').map((r) => r.trim()).filter(Boolean);
  // Listed remotes only, and never one that git could read as an option.
  if (remote.startsWith('-') || !remotes.includes(remote)) {
    throw invalid('unknown_remote', `repository has no git remote '${remote}'${remotes.length > 0 ? ` (it has: ${remotes.join(', ')})` : ' (it has none)'}`, { field: 'remote', remotes });
  }
}

/** `gh --version`: whether a pull request can be opened at all, asked before anything is pushed. */
function ghAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('gh', ['--version'], { timeout: 10_000, env: sanitizedEnv() }, (error) => resolve(error === null));
  });
}

function openPullRequest(repoPath: string, head: string, text: PullRequestText): Promise<string> {
  const args = ['pr', 'create', '--head', head, '--base', text.base, '--title', text.title, '--body', text.body];
  return new Promise((resolve, reject) => {
    execFile('gh', args, { cwd: repoPath, timeout: GH_TIMEOUT_MS, env: { ...sanitizedEnv(), GH_PROMPT_DISABLED: '1' } }, (error, stdout, stderr) => {
      if (error) {
        const first = String(stderr).trim().split('\n')[0] ?? '';
        reject(new MosaicError(502, 'pr_failed', `the branch was pushed, but gh could not open a pull request: ${first || error.message}`));
        return;
      }
      resolve(String(stdout).trim().split('\n').pop() ?? '');
    });
  });
}

export async function pushBranch(repoPath: string, remote: string, branch: string, pr?: PullRequestText): Promise<PushedBranch> {
  assertBranchName('branch', branch);
  await assertKnownRemote(repoPath, remote);
  const commit = await resolveCommit(repoPath, `refs/heads/${branch}`);
  if (commit === null) throw conflict('branch_missing', `branch ${branch} does not exist in this repository`, { branch });
  if (pr !== undefined && !(await ghAvailable())) {
    throw conflict('gh_not_installed', 'opening a pull request needs the GitHub CLI `gh` on the server\'s PATH; nothing was pushed');
  }
  const refspec = `refs/heads/${branch}:refs/heads/${branch}`;
  try {
    await runGit(repoPath, [...SAFE_CHECKOUT_ARGS, 'push', '--porcelain', '--no-verify', remote, refspec], { timeoutMs: PUSH_TIMEOUT_MS });
  } catch (err) {
    if (!(err instanceof GitError)) throw err;
    const detail = `${err.stdout}\n${err.stderr}`;
    if (/\[rejected\]|non-fast-forward|fetch first/.test(detail)) {
      throw conflict('push_rejected', `${remote} refused ${branch}: it holds commits this branch does not have`, { remote, branch });
    }
    throw new MosaicError(502, 'push_failed', `git push to ${remote} failed: ${err.stderr.trim().split('\n')[0] ?? err.message}`, { remote, branch });
  }
  const pushed: PushedBranch = { remote, branch, commit };
  if (pr !== undefined) pushed.pr = await openPullRequest(repoPath, branch, pr);
  return pushed;
}
