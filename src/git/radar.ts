import { identityEnv, mergeCommits } from './merge.js';
import { runGit } from './run.js';

/**
 * Conflict radar: which agents' work touches common paths, whether landing
 * both would conflict, and which conflict with their base already.
 *
 * Each agent is one commit: its branch tip, or for a running agent a probe
 * commit of its uncommitted state on top of its HEAD (deterministic, so the
 * same state gives the same id). Every result is cached by the commit ids it
 * was computed from (commits name their trees), so a refresh after one agent
 * changed recomputes only what involves that agent; and a merge is run only
 * for pairs that share a path, or for an agent whose paths the base changed
 * too. `merges` counts the merge computations actually run.
 */

export interface RadarAgent {
  id: string;
  /** The commit holding the agent's work. */
  commit: string;
  /** The commit its base branch points to now. */
  base: string;
}

export interface RadarPair {
  agents: [string, string];
  paths: string[];
  conflicts: boolean;
}

export interface RadarReport {
  pairs: RadarPair[];
  /** Agents whose work conflicts with their base as it is now, with the conflicting paths. */
  base: { agent: string; paths: string[] }[];
}

const PROBE_DATE = '1000000000 +0000';
const PROBE_ENV = {
  ...identityEnv({ name: 'Mosaic', email: 'mosaic@localhost' }, { name: 'Mosaic', email: 'mosaic@localhost' }, PROBE_DATE),
  GIT_COMMITTER_DATE: PROBE_DATE,
};
const MAX_CACHE = 20_000;

const splitZ = (text: string): string[] => text.split('\0').filter((p) => p !== '');

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_CACHE) cache.clear(); // bounded; a cold cache only costs recomputation
  cache.set(key, value);
  return value;
}

/** A commit of `tree` on top of `head`, the same id for the same state (fixed identity and dates). */
export async function probeCommit(repoPath: string, head: string | null, tree: string): Promise<string> {
  const args = ['commit-tree', '--no-gpg-sign', ...(head ? ['-p', head] : []), tree];
  return (await runGit(repoPath, args, { input: 'mosaic: radar probe\n', env: PROBE_ENV })).stdout.trim();
}

export class ConflictRadar {
  /** Merge computations run so far (cache misses); what a refresh costs. */
  merges = 0;
  private readonly forks = new Map<string, string>();
  private readonly changed = new Map<string, string[]>();
  private readonly mergeResults = new Map<string, string[]>();

  constructor(readonly repoPath: string) {}

  async refresh(agents: readonly RadarAgent[]): Promise<RadarReport> {
    const paths = new Map<string, string[]>();
    const base: RadarReport['base'] = [];
    for (const agent of agents) {
      const fork = await this.fork(agent.base, agent.commit);
      const mine = await this.changedPaths(fork, agent.commit);
      paths.set(agent.id, mine);
      if (mine.length === 0 || fork === agent.base) continue;
      // Only a path both the agent and the base changed since the fork can conflict.
      const theirs = new Set(await this.changedPaths(fork, agent.base));
      if (!mine.some((p) => theirs.has(p))) continue;
      const conflicts = await this.merge(agent.base, agent.commit);
      if (conflicts.length > 0) base.push({ agent: agent.id, paths: conflicts });
    }

    const pairs: RadarPair[] = [];
    for (let i = 0; i < agents.length; i++) {
      for (let j = i + 1; j < agents.length; j++) {
        const a = agents[i];
        const b = agents[j];
        if (!a || !b) continue;
        const other = new Set(paths.get(b.id));
        const common = (paths.get(a.id) ?? []).filter((p) => other.has(p));
        if (common.length === 0) continue;
        const conflicts = a.commit === b.commit ? [] : await this.merge(a.commit, b.commit);
        pairs.push({ agents: [a.id, b.id], paths: common, conflicts: conflicts.length > 0 });
      }
    }
    return { pairs, base };
  }

  private async fork(base: string, commit: string): Promise<string> {
    const key = `${base}:${commit}`;
    const hit = this.forks.get(key);
    if (hit !== undefined) return hit;
    // Unrelated histories (exit 1) have no fork point: everything counts from the base.
    const { stdout } = await runGit(this.repoPath, ['merge-base', base, commit]).catch(() => ({ stdout: base }));
    return remember(this.forks, key, stdout.trim());
  }

  private async changedPaths(from: string, to: string): Promise<string[]> {
    if (from === to) return [];
    const key = `${from}:${to}`;
    const hit = this.changed.get(key);
    if (hit !== undefined) return hit;
    const { stdout } = await runGit(this.repoPath, ['diff-tree', '-r', '-z', '--name-only', '--no-renames', '--no-commit-id', from, to]);
    return remember(this.changed, key, splitZ(stdout).sort());
  }

  /** Conflicting paths of merging two commits (symmetric, so cached under the sorted pair). */
  private async merge(a: string, b: string): Promise<string[]> {
    const key = a < b ? `${a}:${b}` : `${b}:${a}`;
    const hit = this.mergeResults.get(key);
    if (hit !== undefined) return hit;
    this.merges++;
    const { conflicts } = await mergeCommits(this.repoPath, a, b);
    return remember(this.mergeResults, key, conflicts);
  }
}
