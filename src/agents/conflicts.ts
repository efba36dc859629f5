import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { notFound, messageOf } from '../core/errors.js';
import { KeyedMutex } from '../core/mutex.js';
import { ConflictRadar, probeCommit, resolveCommit, type RadarAgent, type RadarReport } from '../git/index.js';
import type { RepoRecord } from '../store/types.js';
import type { AgentContext } from './context.js';
import { isTerminal } from './lifecycle.js';
import type { AgentEvent, AgentRecord } from './types.js';

export interface RepoConflicts extends RadarReport {
  repo: string;
}

/** How often repositories with running agents are looked at again while someone listens (uncommitted edits make no events). */
export const RADAR_INTERVAL_MS = 5000;
const DEBOUNCE_MS = 250;

const EMPTY = JSON.stringify({ pairs: [], base: [] });
const key = (report: RadarReport): string => JSON.stringify({ pairs: report.pairs, base: report.base });

/**
 * The conflict radar of each repository (DESIGN §3 "Landing work"): running
 * agents counted with their uncommitted edits (a probe commit of what a
 * snapshot would commit now), finished agents not landed yet by their
 * branch. Results are cached by commit ids in one ConflictRadar per
 * repository. While anyone listens, agent events and a slow timer refresh
 * the repositories concerned, and a `repo.conflicts` notice goes out when
 * a repository's report changes.
 */
export class ConflictWatcher {
  private readonly radars = new Map<string, ConflictRadar>();
  private readonly last = new Map<string, string>();
  private readonly mutex = new KeyedMutex();
  private readonly emitter = new EventEmitter();
  private readonly dirty = new Set<string>();
  private unsubscribeBus: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(private readonly ctx: AgentContext, private readonly intervalMs = RADAR_INTERVAL_MS) {
    this.emitter.setMaxListeners(0);
  }

  /** Merge computations run so far by every repository's radar. */
  get merges(): number {
    let n = 0;
    for (const radar of this.radars.values()) n += radar.merges;
    return n;
  }

  async report(repoName: string): Promise<RepoConflicts> {
    const repo = await this.ctx.store.repos.get(repoName);
    if (!repo) throw notFound('repo_not_found', `no repository '${repoName}'`);
    return this.mutex.run(repo.name, async () => {
      let radar = this.radars.get(repo.name);
      if (!radar || radar.repoPath !== repo.path) {
        radar = new ConflictRadar(repo.path);
        this.radars.set(repo.name, radar);
      }
      const agents = await this.inputs(repo);
      const report = await radar.refresh(agents);
      const result = { repo: repo.name, ...report };
      const text = key(report);
      if (text !== (this.last.get(repo.name) ?? EMPTY)) {
        this.last.set(repo.name, text);
        this.emitter.emit('conflicts', result);
      }
      return result;
    });
  }

  /** Live `repo.conflicts` notices; watching runs only while someone listens. */
  subscribe(listener: (report: RepoConflicts) => void): () => void {
    this.emitter.on('conflicts', listener);
    if (this.emitter.listenerCount('conflicts') === 1) this.startWatching();
    return () => {
      this.emitter.off('conflicts', listener);
      if (this.emitter.listenerCount('conflicts') === 0) this.stopWatching();
    };
  }

  stop(): void {
    this.emitter.removeAllListeners();
    this.stopWatching();
  }

  private async inputs(repo: RepoRecord): Promise<RadarAgent[]> {
    const agents = (await this.ctx.store.agents.list({ repo: repo.name }))
      .filter((a) => a.state === 'running' || (isTerminal(a.state) && a.landed === null));
    const bases = new Map<string, string | null>();
    const out: RadarAgent[] = [];
    for (const agent of agents) {
      if (!bases.has(agent.baseBranch)) bases.set(agent.baseBranch, await resolveCommit(repo.path, agent.baseBranch).catch(() => null));
      const base = bases.get(agent.baseBranch);
      if (!base) continue;
      const commit = await this.workOf(repo, agent);
      if (commit) out.push({ id: agent.id, commit, base });
    }
    return out;
  }

  /** The commit holding an agent's work: its branch, plus its uncommitted edits while it runs. */
  private async workOf(repo: RepoRecord, agent: AgentRecord): Promise<string | null> {
    if (agent.state === 'running' && existsSync(agent.worktreePath)) {
      try {
        const captured = await this.ctx.git.capture(repo.path, agent.worktreePath, repo.copyFiles);
        if (captured.head !== null) return captured.dirty ? await probeCommit(repo.path, captured.head, captured.tree) : captured.head;
      } catch (err) {
        this.ctx.logger.debug({ agentId: agent.id, err: messageOf(err) }, 'radar: worktree not readable, using the branch');
      }
    }
    return resolveCommit(repo.path, `refs/heads/${agent.branch}`).catch(() => null);
  }

  private startWatching(): void {
    this.unsubscribeBus = this.ctx.bus.subscribe((event: AgentEvent) => {
      if (event.type === 'agent.progress') return; // turns of a running agent; the timer covers its edits
      this.markDirty(event.data.repo);
    });
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private stopWatching(): void {
    this.unsubscribeBus?.();
    this.unsubscribeBus = undefined;
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.timer = undefined;
    this.debounce = undefined;
    this.dirty.clear();
  }

  private markDirty(repo: string): void {
    this.dirty.add(repo);
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      const repos = [...this.dirty];
      this.dirty.clear();
      for (const name of repos) void this.refreshQuietly(name);
    }, DEBOUNCE_MS);
    this.debounce.unref();
  }

  private async tick(): Promise<void> {
    const running = await this.ctx.store.agents.list({ state: 'running' }).catch(() => []);
    for (const name of new Set(running.map((a) => a.repo))) this.markDirty(name);
  }

  private async refreshQuietly(repo: string): Promise<void> {
    try {
      await this.report(repo);
    } catch (err) {
      this.ctx.logger.debug({ repo, err: messageOf(err) }, 'radar refresh failed');
    }
  }
}
