import { api, isMissingRoute, messageOf } from './api';
import { fleet } from './fleet';
import type { Agent, RepoConflicts } from './types';

/**
 * The conflict radar as the views read it: the last known report of each
 * repository stays shown while a new one is fetched (it can take seconds on a
 * big repository), and survives a reload of the page (sessionStorage), marked
 * as refreshing until the instance answers.
 */
const STORAGE_KEY = 'mosaic.radar';

interface RadarState {
  refreshing: Set<string>;
  failures: Map<string, string>;
  /** False once the instance answered that it has no radar. */
  available: boolean;
}

export const radar: RadarState = { refreshing: new Set(), failures: new Map(), available: true };

/** Restores the reports of the previous page load, so the first paint has them. */
export function restoreRadar(): void {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? '[]') as RepoConflicts[];
    for (const report of saved) if (typeof report?.repo === 'string' && !fleet.conflicts.has(report.repo)) fleet.setConflicts(report);
  } catch {
    // nothing usable saved
  }
}

function save(): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify([...fleet.conflicts.values()]));
  } catch {
    // storage full or off: only the reload loses the last known radar
  }
}

/** Fetches the radar of `repos` (all at once); what was known stays shown meanwhile. */
export async function refreshRadar(repos: readonly string[]): Promise<void> {
  const wanted = repos.filter((name) => !radar.refreshing.has(name));
  if (!radar.available || wanted.length === 0) return;
  for (const name of wanted) radar.refreshing.add(name);
  fleet.touch();
  await Promise.all(wanted.map(async (name) => {
    try {
      fleet.setConflicts({ ...(await api.get<RepoConflicts>(`/repos/${encodeURIComponent(name)}/conflicts`)), repo: name });
      radar.failures.delete(name);
    } catch (err) {
      if (isMissingRoute(err)) radar.available = false;
      else radar.failures.set(name, messageOf(err));
    } finally {
      radar.refreshing.delete(name);
    }
  }));
  save();
  fleet.touch();
}

export type RadarStatus =
  | { kind: 'unknown' }
  | { kind: 'remote' }
  | { kind: 'clean' }
  | { kind: 'overlaps'; with: string[]; paths: string[] }
  | { kind: 'conflicts'; with: string[]; base: boolean; paths: string[] };

/** What the radar says about one agent: clean, overlaps (merges cleanly), or conflicts (with whom, with its base). */
export function radarStatus(agent: Agent, report: RepoConflicts | undefined): RadarStatus {
  if (agent.instance) return { kind: 'remote' };
  if (!report) return { kind: 'unknown' };
  const other = (agents: string[]) => agents.find((id) => id !== agent.id) ?? '';
  const mine = report.pairs.filter((pair) => pair.agents.includes(agent.id));
  const conflicting = mine.filter((pair) => pair.conflicts);
  const base = report.base.filter((entry) => entry.agent === agent.id);
  if (conflicting.length > 0 || base.length > 0) {
    const paths = [...new Set([...conflicting.flatMap((p) => p.paths), ...base.flatMap((b) => b.paths)])];
    return { kind: 'conflicts', with: conflicting.map((p) => other(p.agents)), base: base.length > 0, paths };
  }
  if (mine.length > 0) return { kind: 'overlaps', with: mine.map((p) => other(p.agents)), paths: [...new Set(mine.flatMap((p) => p.paths))] };
  return { kind: 'clean' };
}
