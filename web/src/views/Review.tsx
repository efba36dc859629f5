import { useEffect, useMemo, useState } from 'preact/hooks';
import { diffStatOf } from '../diff-stats';
import { fleet } from '../fleet';
import { cost, duration, placeOf } from '../format';
import { radar, radarStatus, refreshRadar, type RadarStatus } from '../radar';
import { agentHref } from '../router';
import { ACTIVE, type Agent } from '../types';
import { AgentActions } from './Actions';
import { StateBadge } from './StateBadge';
import { useFleet, useTick } from './use-fleet';

/** Finished agents whose work is waiting: not landed (discarded ones are gone from the list), newest first. */
export function reviewQueue(agents: Iterable<Agent>): Agent[] {
  return [...agents]
    .filter((a) => !ACTIVE.includes(a.state) && !a.landed)
    .sort((a, b) => (b.endedAt ?? b.createdAt) - (a.endedAt ?? a.createdAt));
}

function RadarCell({ agent, status }: { agent: Agent; status: RadarStatus }) {
  const list = (ids: string[]) => ids.map((id, i) => <span key={id}>{i > 0 && ', '}<a href={agentHref(id)}>{id}</a></span>);
  const refreshing = radar.refreshing.has(agent.repo) ? <span class="muted refreshing"> (refreshing)</span> : null;
  switch (status.kind) {
    case 'remote':
      return <span class="muted">not on this instance's radar</span>;
    case 'unknown':
      return <span class="muted">{radar.failures.get(agent.repo) ?? (radar.available ? '…' : 'no radar')}</span>;
    case 'clean':
      return <span class="radar-clean">✓ clean{refreshing}</span>;
    case 'overlaps':
      return <span class="radar-overlaps" title={status.paths.join(', ')}>≈ overlaps {list(status.with)} (merges cleanly){refreshing}</span>;
    case 'conflicts':
      return (
        <span class="radar-conflicts" title={status.paths.join(', ')}>
          ✗ {status.with.length > 0 && <>conflicts with {list(status.with)}</>}
          {status.with.length > 0 && status.base && '; '}
          {status.base && 'conflicts with its base'}{refreshing}
        </span>
      );
  }
}

function Changes({ agent }: { agent: Agent }) {
  const entry = diffStatOf(agent);
  if (entry?.error) return <span class="muted" title={entry.error}>unavailable</span>;
  if (!entry?.stat) return <span class="muted">…</span>;
  const { filesChanged, insertions, deletions } = entry.stat;
  if (filesChanged === 0) return <span class="muted">no changes</span>;
  return (
    <span>
      {filesChanged} file{filesChanged === 1 ? '' : 's'} <span class="added">+{insertions}</span> <span class="removed">−{deletions}</span>
    </span>
  );
}

function ReviewRow({ agent, now, onNotice }: { agent: Agent; now: number; onNotice: (text: string) => void }) {
  const commits = agent.result?.commitsAhead;
  return (
    <tr data-agent={agent.id} data-state={agent.state}>
      <td data-label="Agent">
        <a href={agentHref(agent.id)}>{agent.id}</a> <StateBadge state={agent.state} />
        <div class="muted">{agent.taskId} · {agent.repo} · {placeOf(agent)}{agent.endedAt ? ` · ended ${duration(now - agent.endedAt)} ago` : ''}</div>
        {agent.followUpOf && <div class="muted">follow-up of <a href={agentHref(agent.followUpOf.agentId)}>{agent.followUpOf.agentId}</a></div>}
      </td>
      <td data-label="Changes"><Changes agent={agent} /></td>
      <td data-label="Commits">{commits === undefined ? '-' : commits === 0 ? 'none to land' : String(commits)}</td>
      <td data-label="Cost">{cost(agent.result?.costUsd) || '-'}</td>
      <td data-label="Radar"><RadarCell agent={agent} status={radarStatus(agent, fleet.conflicts.get(agent.repo))} /></td>
      <td data-label="Actions"><AgentActions agent={agent} onNotice={onNotice} /></td>
    </tr>
  );
}

/**
 * The review queue: finished agents not landed or discarded, newest first,
 * each with its diff stat, commits, cost and what the conflict radar says,
 * and the actions to take (Land, Retry, Reply, Discard …).
 */
export function ReviewView() {
  const fleetNow = useFleet();
  const now = useTick(5000);
  const [notice, setNotice] = useState<string | undefined>();
  const version = fleetNow.version;
  const queue = useMemo(() => reviewQueue(fleet.agents.values()), [version]);
  const repos = useMemo(() => [...new Set(queue.filter((a) => !a.instance).map((a) => a.repo))].sort(), [queue]);
  const repoKey = repos.join('\n');

  useEffect(() => {
    void refreshRadar(repos);
  }, [repoKey]);

  return (
    <section aria-labelledby="review-title">
      <div class="title-row">
        <h1 id="review-title">Review</h1>
        <span class="muted" role="status" aria-live="polite">{queue.length} waiting</span>
      </div>
      {notice && <p class="notice" role="status">{notice}</p>}
      {fleet.error && <p class="error" role="alert">{fleet.error}</p>}
      {queue.length === 0
        ? <p class="empty">Nothing to review: every finished agent is landed or discarded.</p>
        : (
          <table class="review">
            <thead>
              <tr><th>Agent</th><th>Changes</th><th>Commits</th><th>Cost</th><th>Radar</th><th>Actions</th></tr>
            </thead>
            <tbody>
              {queue.map((agent) => <ReviewRow key={agent.id} agent={agent} now={now} onNotice={setNotice} />)}
            </tbody>
          </table>
        )}
    </section>
  );
}
