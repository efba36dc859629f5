import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidName } from '../../core/ids.js';
import { isPoolId } from '../../git/index.js';
import { removeTree } from '../sandbox/index.js';
import { poolLayersRoot, type ShareMode } from '../share/index.js';

/**
 * The pool's memory on disk: one JSON file per pooled worktree in
 * `$MOSAIC_HOME/pool/<repo>/<id>.json`, written before the worktree is made
 * and deleted after it is handed over or removed. A marker is what makes a
 * `pool-<id>` worktree this instance's (the reconciler leaves it alone, a
 * restarted server re-checks it); one whose worktree is gone or damaged is
 * rebuilt.
 */
export interface PoolMarker {
  id: string;
  repo: string;
  repoPath: string;
  path: string;
  branch: string;
  /** `preparing` until copyFiles, shareDirs and setup are done; only `ready` ones are handed out. */
  state: 'preparing' | 'ready';
  /** The commit checked out. */
  baseCommit: string | null;
  /** The commit whose setupInputs the last setup ran against. */
  setupCommit: string | null;
  /** Digest of the repository settings the worktree was prepared with (setup, copyFiles, ...). */
  configKey: string;
  /** `git status` digest over tracked files when it became ready: a later difference is damage. */
  trackedStatus: string | null;
  createdAt: number;
  readyAt: number | null;
  /** How its shareDirs were given (absent in markers older than the field: `copy`). */
  shareMode?: ShareMode;
}

export function poolRoot(home: string): string {
  return join(home, 'pool');
}

export function repoPoolDir(home: string, repo: string): string {
  if (!isValidName(repo)) throw new Error(`invalid repository name ${repo}`);
  return join(poolRoot(home), repo);
}

export function markerPath(home: string, repo: string, id: string): string {
  if (!isPoolId(id)) throw new Error(`invalid pool id ${id}`);
  return join(repoPoolDir(home, repo), `${id}.json`);
}

/** Where a pooled worktree's setup output goes (given to the agent's log at hand-over). */
export function poolLogPath(home: string, repo: string, id: string): string {
  return join(repoPoolDir(home, repo), `${id}.log`);
}

/** The MOSAIC_AGENT_ID a pooled setup runs with: the marker that proves its processes are this pool entry's. */
export function poolSetupMarker(id: string): string {
  return `pool-${id}`;
}

/** The pooled setup's process group and identity while it runs (supervisor/pid-file.ts format). */
export function setupPidPath(home: string, repo: string, id: string): string {
  return join(repoPoolDir(home, repo), `${id}.setup.pid`);
}

/** The private directory of a pooled setup's sandbox (like an agent's `agents/<id>/`), while it runs. */
export function setupBoxPath(home: string, repo: string, id: string): string {
  return join(repoPoolDir(home, repo), `${id}.box`);
}

/** Atomic: written to a temporary file, then renamed over the marker. */
export function writeMarker(home: string, marker: PoolMarker): void {
  const dir = repoPoolDir(home, marker.repo);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = markerPath(home, marker.repo, marker.id);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(marker)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function deleteMarker(home: string, repo: string, id: string): void {
  for (const file of [markerPath(home, repo, id), poolLogPath(home, repo, id), setupPidPath(home, repo, id)]) rmSync(file, { force: true });
  removeTree(setupBoxPath(home, repo, id));
  removeTree(poolLayersRoot(home, repo, id));
}

function parseMarker(text: string, repo: string, id: string): PoolMarker | null {
  try {
    const m = JSON.parse(text) as Partial<PoolMarker>;
    if (m.id !== id || m.repo !== repo || typeof m.path !== 'string' || typeof m.repoPath !== 'string' || typeof m.branch !== 'string') return null;
    if (m.state !== 'preparing' && m.state !== 'ready') return null;
    return m as PoolMarker;
  } catch {
    return null;
  }
}

export function markerExists(home: string, repo: string, id: string): boolean {
  try {
    readFileSync(markerPath(home, repo, id));
    return true;
  } catch {
    return false;
  }
}

/**
 * Markers of one repository. An unreadable marker is deleted: its worktree is
 * then no longer the pool's and the reconciler removes it like any orphan.
 */
export function readMarkers(home: string, repo: string): PoolMarker[] {
  let names: string[];
  try {
    names = readdirSync(repoPoolDir(home, repo));
  } catch {
    return [];
  }
  const markers: PoolMarker[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const id = name.slice(0, -'.json'.length);
    if (!isPoolId(id)) continue;
    const text = (() => {
      try {
        return readFileSync(join(repoPoolDir(home, repo), name), 'utf8');
      } catch {
        return '';
      }
    })();
    const marker = parseMarker(text, repo, id);
    if (marker) markers.push(marker);
    else rmSync(join(repoPoolDir(home, repo), name), { force: true });
  }
  return markers;
}

/** Repository names that have a pool folder (also ones no longer registered). */
export function repoPoolDirs(home: string): string[] {
  try {
    return readdirSync(poolRoot(home)).filter((name) => isValidName(name));
  } catch {
    return [];
  }
}
