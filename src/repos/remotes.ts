import { existsSync } from 'node:fs';
import { messageOf, MosaicError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { adoptRemoteBranch, cloneRemote, cloneUrl, fetchRemote, pushRemote } from '../git/remote.js';
import type { RepoRecord } from '../store/types.js';

const PUSH_TIMEOUT_MS = 120_000;

/**
 * This node's side of repositories shared by URL (issue 21): its clone of
 * each (made on first need under `$MOSAIC_HOME/repos/<name>`, the record's
 * `path` on this node), brought up to date before a spawn and a pool refill,
 * and the pushes of agents' branches and of landings. A repository at a
 * local path (no `url`) is left alone by every method.
 */
export class RepoRemotes {
  /** The sync under way per repository, and the one queued after it. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly next = new Map<string, Promise<void>>();
  /** Pushes of each agent branch, in order (`<repo>\0<branch>` → the last one). */
  private readonly pushes = new Map<string, Promise<void>>();
  /** Agent branches whose final push was asked for: a checkpoint coming later must not overwrite it. */
  private readonly finals = new Set<string>();

  constructor(private readonly opts: { fetchTimeoutMs: number; logger: Logger }) {}

  /**
   * Clones the repository here when this node has no clone of its URL yet,
   * else fetches every branch; then the local base branch is the remote's.
   * A failure or a timeout is 502 `repo_fetch_failed` (never a hang).
   */
  sync(repo: RepoRecord): Promise<void> {
    const url = repo.url;
    if (!url) return Promise.resolve();
    // A caller needs a fetch that began after it asked: with one under way, it waits for the next one,
    // which everyone arriving meanwhile shares (at most one running and one waiting per repository).
    const running = this.running.get(repo.name);
    if (!running) return this.begin(repo, url);
    let queued = this.next.get(repo.name);
    if (!queued) {
      queued = running.catch(() => undefined).then(() => {
        this.next.delete(repo.name);
        return this.begin(repo, url);
      });
      this.next.set(repo.name, queued);
    }
    return queued;
  }

  private begin(repo: RepoRecord, url: string): Promise<void> {
    const task = this.syncNow(repo, url).finally(() => {
      if (this.running.get(repo.name) === task) this.running.delete(repo.name);
    });
    this.running.set(repo.name, task);
    return task;
  }

  private async syncNow(repo: RepoRecord, url: string): Promise<void> {
    const started = Date.now();
    try {
      if (!existsSync(repo.path) || (await cloneUrl(repo.path)) !== url) {
        await cloneRemote(url, repo.path, this.opts.fetchTimeoutMs);
      } else {
        await fetchRemote(repo.path, url, this.opts.fetchTimeoutMs);
      }
      await adoptRemoteBranch(repo.path, repo.baseBranch, true);
    } catch (err) {
      throw new MosaicError(502, 'repo_fetch_failed', `could not fetch repository '${repo.name}' from its remote: ${messageOf(err)}`,
        { repo: repo.name });
    }
    this.opts.logger.debug({ repo: repo.name, ms: Date.now() - started }, 'repository fetched from its remote');
  }

  /**
   * Clones a repository being registered (so its default branch is known and
   * the URL proven reachable); returns the remote's default branch.
   */
  async cloneNew(name: string, url: string, path: string): Promise<string | null> {
    try {
      return await cloneRemote(url, path, this.opts.fetchTimeoutMs);
    } catch (err) {
      throw new MosaicError(502, 'repo_fetch_failed', `could not clone '${name}' from ${url}: ${messageOf(err)}`, { repo: name });
    }
  }

  /**
   * A branch another node pushed (an agent that ran there): fetched, and the
   * local branch made or fast-forwarded to the remote's. No-op for a local repository.
   */
  async adopt(repo: RepoRecord, branch: string): Promise<void> {
    if (!repo.url) return;
    await this.sync(repo);
    await adoptRemoteBranch(repo.path, branch, false);
  }

  /**
   * An agent branch onto the remote's branch of that name, forced (agent
   * branches are Mosaic's): its final state when the agent ends, or a
   * checkpoint commit while it runs. Pushes of one branch run in order, and a
   * checkpoint asked for after the final push is dropped, so a slow
   * checkpoint never overwrites the end state.
   */
  async pushBranch(repo: RepoRecord, branch: string, opts: { checkpoint?: string } = {}): Promise<void> {
    const url = repo.url;
    if (!url) return;
    const key = `${repo.name}\0${branch}`;
    if (opts.checkpoint === undefined) this.finals.add(key);
    else if (this.finals.has(key)) return;
    const source = opts.checkpoint ?? `refs/heads/${branch}`;
    const previous = this.pushes.get(key) ?? Promise.resolve();
    const task = previous.catch(() => undefined).then(async () => {
      if (opts.checkpoint !== undefined && this.finals.has(key)) return;
      await pushRemote(repo.path, url, { source, branch }, PUSH_TIMEOUT_MS);
    });
    this.pushes.set(key, task);
    try {
      await task;
    } finally {
      if (this.pushes.get(key) === task) this.pushes.delete(key);
      // The final set only needs to outlive checkpoints still under way; forget it after a while.
      if (opts.checkpoint === undefined) setTimeout(() => this.finals.delete(key), 10 * 60_000).unref();
    }
  }

  /** A landing onto the remote's target branch, only if it still points to `expected` (409 `target_moved` otherwise). */
  async pushLanding(repo: RepoRecord, into: string, expected: string, commit: string): Promise<void> {
    if (!repo.url) return;
    await pushRemote(repo.path, repo.url, { source: commit, branch: into, expected }, PUSH_TIMEOUT_MS);
  }
}
