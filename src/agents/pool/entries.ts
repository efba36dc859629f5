import { createHash, randomBytes } from 'node:crypto';
import { messageOf } from '../../core/errors.js';
import { base32 } from '../../core/ids.js';
import { KeyedMutex } from '../../core/mutex.js';
import { DEFAULT_SETUP_INPUTS } from '../../git/index.js';
import type { RepoRecord } from '../../store/types.js';
import type { AgentContext } from '../context.js';
import { deleteMarker, type PoolMarker } from './markers.js';

/** A pooled worktree in memory: its marker plus what only this process knows. */
export interface Entry extends PoolMarker {
  /** Claimed by a spawn: no longer the pool's to refresh, count as ready or remove. */
  taken: boolean;
  abort: AbortController | null;
}

/** The last failure to prepare a pooled worktree of a repository, and when to try again. */
export interface Failure {
  count: number;
  until: number;
  message: string;
}

export function newPoolId(): string {
  return base32(randomBytes(8)).slice(0, 12);
}

/** Digest of the settings a pooled worktree is prepared with: when it changes, the worktree is rebuilt. */
export function poolConfigKey(repo: RepoRecord): string {
  return createHash('sha256')
    .update(JSON.stringify([repo.path, repo.baseBranch, repo.setup, repo.copyFiles, repo.shareDirs]))
    .digest('hex');
}

export function setupInputsOf(repo: RepoRecord): readonly string[] {
  return repo.setupInputs ?? DEFAULT_SETUP_INPUTS;
}

export function markerOf(entry: Entry): PoolMarker {
  const { taken: _taken, abort: _abort, ...marker } = entry;
  return marker;
}

/**
 * What every part of the pool shares: the pooled worktrees by repository,
 * the preparation failures, one lock per repository (taken around any change
 * to a repository's worktrees) and the repositories being unregistered.
 */
export class PoolEntries {
  readonly byRepo = new Map<string, Map<string, Entry>>();
  readonly failures = new Map<string, Failure>();
  readonly locks = new KeyedMutex();
  readonly removing = new Set<string>();

  constructor(private readonly ctx: AgentContext) {}

  of(repo: string): Map<string, Entry> {
    let entries = this.byRepo.get(repo);
    if (!entries) {
      entries = new Map();
      this.byRepo.set(repo, entries);
    }
    return entries;
  }

  /** Removes a pooled worktree and forgets it; the marker goes only once the worktree is gone. */
  async discard(entry: Entry): Promise<void> {
    entry.abort?.abort();
    const { git, config, logger } = this.ctx;
    try {
      if (entry.path !== '') await git.removePooled(entry.repoPath, entry.path, entry.branch);
      deleteMarker(config.home, entry.repo, entry.id);
    } catch (err) {
      logger.warn({ repo: entry.repo, path: entry.path, err: messageOf(err) }, 'pool: could not remove a pooled worktree');
    }
    this.byRepo.get(entry.repo)?.delete(entry.id);
  }
}
