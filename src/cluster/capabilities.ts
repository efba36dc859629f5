import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Config } from '../core/config.js';
import { RUNTIME_KINDS, runtimeBins } from '../agents/runtimes/registry.js';
import type { QueuedAgent } from '../store/types.js';

/**
 * What a node can serve, published in its row at each heartbeat: the
 * runtime kinds whose executables it has, and of the registered
 * repositories those it can make worktrees of (`repos`: shared by URL, or
 * at a path that is a git repository here) and those it cannot
 * (`reposMissing`: their path is not a git repository on this machine). A
 * repository in neither list was registered after the node last looked.
 */
export interface NodeCapabilities {
  runtimes: string[];
  repos: string[];
  reposMissing: string[];
}

/** What a spawn needs of the node that runs it. */
export interface SpawnNeeds {
  runtime: string;
  repo: string;
}

export function needsOf(agent: Pick<QueuedAgent, 'repo' | 'runtime'>): SpawnNeeds {
  return { runtime: agent.runtime.kind, repo: agent.repo };
}

export function canServe(caps: NodeCapabilities, needs: SpawnNeeds): boolean {
  return caps.runtimes.includes(needs.runtime) && caps.repos.includes(needs.repo);
}

/** Whether a node has said it cannot serve this (an unknown repository is not a "cannot": it had not looked yet). */
export function cannotServe(caps: NodeCapabilities, needs: SpawnNeeds): boolean {
  return !caps.runtimes.includes(needs.runtime) || caps.reposMissing.includes(needs.repo);
}

/** Rows written before capabilities listed repositories read as "serves no repository it was asked about". */
export function parseCapabilities(text: string): NodeCapabilities {
  const raw = JSON.parse(text) as Partial<NodeCapabilities>;
  return { runtimes: raw.runtimes ?? [], repos: raw.repos ?? [], reposMissing: raw.reposMissing ?? [] };
}

/** An executable: a path (absolute or relative to the working directory) or a name found on PATH. */
function executableFound(bin: string, path: string): boolean {
  const candidates = bin.includes('/') ? [bin] : path.split(delimiter).filter((dir) => isAbsolute(dir)).map((dir) => join(dir, bin));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

/** The runtime kinds this machine can run: `command` always (its program is the caller's), the others when their binary is there. */
export function runtimesHere(config: Pick<Config, 'claudeBin' | 'codexBin' | 'geminiBin' | 'opencodeBin'>, path = process.env.PATH ?? ''): string[] {
  const bins: Record<string, string> = { ...runtimeBins(config) };
  return RUNTIME_KINDS.filter((kind) => kind === 'command' || executableFound(bins[kind] ?? kind, path));
}

/** A working tree or a bare repository at `path` (what worktrees are made from), without running git. */
export function isGitRepoHere(path: string): boolean {
  return existsSync(join(path, '.git')) || (existsSync(join(path, 'HEAD')) && existsSync(join(path, 'objects')));
}

/**
 * Of the registered repositories, those this node can serve and those it
 * cannot: one shared by URL, every node (it clones it on first need); one
 * at a local path, a node where that path is a git repository.
 */
export function reposHere(repos: readonly { name: string; path: string; url?: string | null }[]): Pick<NodeCapabilities, 'repos' | 'reposMissing'> {
  const here: string[] = [];
  const missing: string[] = [];
  for (const repo of repos) (repo.url || isGitRepoHere(repo.path) ? here : missing).push(repo.name);
  return { repos: here, reposMissing: missing };
}
