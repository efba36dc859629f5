import { rmdirSync, rmSync } from 'node:fs';
import { inspectPooled, listPooledWorktrees } from '../../git/index.js';
import type { RepoRecord } from '../../store/types.js';
import type { AgentContext } from '../context.js';
import { hasLayers, poolLayersRoot, shareModeFor } from '../share/index.js';
import { recordedGroup } from '../supervisor/index.js';
import { poolConfigKey, type Entry, type PoolEntries } from './entries.js';
import { poolSetupMarker, readMarkers, repoPoolDir, setupPidPath } from './markers.js';

/**
 * The restart path. At start, a marker's worktree is kept when it is intact
 * (registered, on its branch, at the recorded commit, tracked files as they
 * were, made with the current settings) and removed otherwise, to be rebuilt
 * by the fill. A setup the previous server left running is killed first.
 */
export async function restorePool(ctx: AgentContext, pool: PoolEntries, repo: RepoRecord): Promise<void> {
  const { config } = ctx;
  const registered = new Map((await listPooledWorktrees(repo.path)).map((w) => [w.id, w]));
  const key = poolConfigKey(repo);
  const shareMode = repo.shareDirs.length > 0 ? await shareModeFor(config, repo.path, 'local') : undefined;
  for (const marker of readMarkers(config.home, repo.name)) {
    const entry: Entry = { ...marker, taken: false, abort: null };
    // Only a setup its pid file proves is still this pooled worktree's (pool-setup.ts marks it `pool-<id>`).
    const setupPid = setupPidPath(config.home, repo.name, marker.id);
    recordedGroup(setupPid, poolSetupMarker(marker.id))?.signal('SIGKILL');
    rmSync(setupPid, { force: true }); // no setup of this entry runs now: the file has served
    const listed = registered.get(marker.id);
    const usable = listed !== undefined && !listed.prunable && listed.path === marker.path && marker.repoPath === repo.path;
    const state = usable ? await inspectPooled(marker.path) : null;
    const intact = marker.state === 'ready' && state !== null && marker.configKey === key && state.branch === marker.branch
      && state.head === marker.baseCommit && state.trackedStatus === marker.trackedStatus
      // Shared dirs given the way this machine gives them now, and their private layers still there.
      && (marker.shareMode ?? 'copy') === (shareMode ?? marker.shareMode ?? 'copy')
      && (marker.shareMode !== 'overlay' || hasLayers(poolLayersRoot(config.home, repo.name, marker.id)));
    if (intact) {
      pool.of(repo.name).set(entry.id, entry);
    } else {
      ctx.logger.info({ repo: repo.name, path: marker.path }, 'pool: pooled worktree damaged or unfinished; rebuilding');
      await pool.discard(entry);
    }
  }
}

/** Pooled worktrees of a repository that is no longer registered (removed while the server was down, or now). */
export async function dropLeftovers(ctx: AgentContext, pool: PoolEntries, name: string): Promise<void> {
  const { config } = ctx;
  for (const marker of readMarkers(config.home, name)) {
    if (pool.byRepo.get(name)?.has(marker.id)) continue;
    await pool.discard({ ...marker, taken: false, abort: null });
  }
  try {
    rmdirSync(repoPoolDir(config.home, name)); // only when empty: a marker whose worktree could not be removed stays
  } catch {
    // not empty or already gone
  }
}
