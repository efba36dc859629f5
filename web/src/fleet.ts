import { api, messageOf, signalSignedOut } from './api';
import { ACTIVE, type Agent, type RepoConflicts } from './types';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

type Listener = () => void;

const RETRY_MS = 1000;
/** Renders are batched: a burst of events (a replay, kill-all) becomes one update. */
const BATCH_MS = 50;
/** How long the first load waits for the stream before fetching the list anyway. */
const OPEN_WAIT_MS = 3000;
const EVENT_TYPES = ['agent.state', 'agent.progress', 'agent.landed'];
/**
 * How often the list is fetched again while remote agents are unfinished: a
 * peer that went silent sends no event, and only the list says it is stale.
 */
const REMOTE_REFRESH_MS = 10_000;

/**
 * Every agent this instance knows (its own and mirrored remote ones), kept
 * current by /api/v1/events. An event older than what is shown (by the
 * record's updatedAt) never replaces it, so the list snapshot and the replayed
 * events can arrive in any order.
 */
export class Fleet {
  readonly agents = new Map<string, Agent>();
  /** The latest conflict radar per repository (from the Repositories view and `repo.conflicts` events). */
  readonly conflicts = new Map<string, RepoConflicts>();
  status: StreamStatus = 'connecting';
  error: string | undefined;
  /** The seq of the last event applied: where a new stream resumes. */
  lastSeq = 0;
  /** Bumped on every change, so views can memoize on it. */
  version = 0;
  private source: EventSource | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private flush: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<Listener>();
  private stopped = false;
  private onOpened: (() => void) | undefined;
  private refresh: ReturnType<typeof setInterval> | undefined;

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.stopped = false;
    // The stream first, then the list: once the stream is open, every later change reaches it,
    // and everything before is in the list (the updatedAt guard settles any overlap).
    const opened = new Promise<void>((resolve) => {
      this.onOpened = resolve;
      setTimeout(resolve, OPEN_WAIT_MS);
    });
    this.open();
    clearInterval(this.refresh);
    this.refresh = setInterval(() => {
      if (this.remoteUnfinished()) void this.reload();
    }, REMOTE_REFRESH_MS);
    await opened;
    await this.reload();
  }

  private remoteUnfinished(): boolean {
    for (const agent of this.agents.values()) if (agent.instance && ACTIVE.includes(agent.state)) return true;
    return false;
  }

  stop(): void {
    this.stopped = true;
    this.source?.close();
    this.source = undefined;
    clearTimeout(this.retry);
    clearInterval(this.refresh);
  }

  async reload(): Promise<void> {
    try {
      const { agents } = await api.get<{ agents: Agent[] }>('/agents?scope=all');
      for (const agent of agents) this.apply(agent);
      this.error = undefined;
    } catch (err) {
      this.error = messageOf(err);
    }
    this.changed();
  }

  /** Shows `agent` unless what is shown is newer. */
  apply(agent: Agent): void {
    const current = this.agents.get(agent.id);
    if (current && (current.updatedAt ?? 0) > (agent.updatedAt ?? 0)) return;
    this.agents.set(agent.id, agent);
    this.changed();
  }

  setConflicts(report: RepoConflicts): void {
    this.conflicts.set(report.repo, report);
    this.changed();
  }

  /** Tells the views that something they read besides the agents changed (the radar's refreshing marks). */
  touch(): void {
    this.changed();
  }

  remove(id: string): void {
    if (this.agents.delete(id)) this.changed();
  }

  private open(): void {
    // EventSource sends Last-Event-ID by itself when it reconnects after a network error;
    // after a refused or closed stream it gives up, and a new one resumes with ?after=.
    // The list is fetched separately: a first stream needs only what happens from now on.
    const source = new EventSource(this.lastSeq > 0 ? `/api/v1/events?after=${this.lastSeq}` : '/api/v1/events?since=now');
    this.source = source;
    const onEvent = (event: MessageEvent<string>) => {
      const seq = Number(event.lastEventId);
      if (Number.isFinite(seq) && seq > this.lastSeq) this.lastSeq = seq;
      try {
        this.apply(JSON.parse(event.data) as Agent);
      } catch {
        // A malformed frame is skipped; the next reload shows the truth.
      }
    };
    for (const type of EVENT_TYPES) source.addEventListener(type, onEvent as EventListener);
    // Radar notices carry no id: they are not in the event log and never move the resume point.
    source.addEventListener('repo.conflicts', ((event: MessageEvent<string>) => {
      try {
        const report = JSON.parse(event.data) as RepoConflicts;
        if (typeof report.repo === 'string') this.setConflicts(report);
      } catch {
        // skipped, as above
      }
    }) as EventListener);
    // Events the stream would have replayed were pruned by retention: the list has the current state.
    source.addEventListener('events.gap', () => void this.reload());
    source.onopen = () => {
      // A stream that had seen no event yet cannot resume by seq: the list fills the gap instead.
      const gap = this.status === 'reconnecting' && this.lastSeq === 0;
      this.status = 'live';
      this.changed();
      this.onOpened?.();
      this.onOpened = undefined;
      if (gap) void this.reload();
    };
    source.onerror = () => {
      if (this.stopped || this.source !== source) return;
      this.status = 'reconnecting';
      this.changed();
      if (source.readyState === EventSource.CLOSED) {
        // Refused rather than dropped: after a restart the session is gone, and the page must say so.
        clearTimeout(this.retry);
        this.retry = setTimeout(() => {
          if (this.stopped) return;
          api.get<{ signedIn: boolean }>('/dashboard/session')
            .then((session) => (session.signedIn ? this.open() : signalSignedOut()))
            .catch(() => this.open());
        }, RETRY_MS);
      }
    };
  }

  private changed(): void {
    this.version += 1;
    if (this.flush !== undefined) return;
    this.flush = setTimeout(() => {
      this.flush = undefined;
      this.listeners.forEach((listener) => listener());
    }, BATCH_MS);
  }
}

export const fleet = new Fleet();
