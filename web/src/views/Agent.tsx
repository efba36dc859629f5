import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, messageOf } from '../api';
import { fleet } from '../fleet';
import { cost, duration, placeOf, runtimeLabel, staleReason, time, timingRows, turns } from '../format';
import { agentHref, navigate } from '../router';
import { ACTIVE, type Agent } from '../types';
import { Diff } from './Diff';
import { Logs } from './Logs';
import { StateBadge } from './StateBadge';
import { useFleet, useTick } from './use-fleet';

function Summary({ agent, now }: { agent: Agent; now: number }) {
  const t = turns(agent);
  const end = agent.endedAt ?? now;
  const rows: [string, string][] = [
    ['Repository', `${agent.repo} (${agent.branch} from ${agent.baseBranch})`],
    ['Task', agent.taskId],
    ['Type', agent.type],
    ['Instance', placeOf(agent) + (agent.stale ? ` — may be out of date: ${staleReason(agent, now)}` : '')],
    ['Priority', String(agent.priority)],
    ['Created', time(agent.createdAt)],
    ['Ran for', agent.startedAt ? duration(end - agent.startedAt) : '-'],
  ];
  if (t !== undefined) rows.push(['Turns', String(t)]);
  if (agent.result?.costUsd !== undefined) rows.push(['Cost', cost(agent.result.costUsd)]);
  if (agent.exitCode !== null) rows.push(['Exit code', String(agent.exitCode)]);
  if (agent.result?.commitsAhead !== undefined) rows.push(['Commits', String(agent.result.commitsAhead)]);
  if (agent.result?.filesChanged !== undefined) rows.push(['Files changed', String(agent.result.filesChanged)]);
  if (agent.landed) rows.push(['Landed', `into ${agent.landed.into} (${agent.landed.strategy}) at ${agent.landed.commit.slice(0, 10)}`]);
  if (agent.retryOf) rows.push(['Retry of', `${agent.retryOf.agentId}${agent.retryOf.continue ? ' (on its work)' : ''}`]);
  rows.push(['Runtime', runtimeLabel(agent)]);
  return (
    <>
      <dl class="fields">
        {rows.map(([k, v]) => <div key={k} class={k === 'Runtime' ? 'wide' : undefined}><dt>{k}</dt><dd>{v}</dd></div>)}
      </dl>
      {agent.error && <p class="error" role="alert"><strong>{agent.error.code}</strong>: {agent.error.message}</p>}
      {agent.result?.summary && <div class="result-summary"><h2>Result</h2><p>{agent.result.summary}</p></div>}
      {agent.progress?.lastText && ACTIVE.includes(agent.state) && <p class="muted">Latest: {agent.progress.lastText}</p>}
      <Timings agent={agent} />
    </>
  );
}

/** Where the agent's time went, phase by phase (the record's `timings`): a bar and the figures. */
function Timings({ agent }: { agent: Agent }) {
  const rows = timingRows(agent.timings);
  if (rows.length === 0) return null;
  return (
    <div class="timings">
      <h2>Timings</h2>
      <div class="timing-bar" aria-hidden="true">
        {rows.filter((r) => r.share > 0).map((r) => <span key={r.phase} class={`phase-${r.phase}`} style={{ width: `${r.share}%` }} title={`${r.phase} ${duration(r.ms)}`} />)}
      </div>
      <dl class="fields">
        {rows.map((r) => <div key={r.phase}><dt>{r.phase}</dt><dd>{duration(r.ms)}</dd></div>)}
      </dl>
    </div>
  );
}

/** One agent: what it is, its live output, its diff, and what can be done with it. */
export function AgentView({ id, tab }: { id: string; tab: 'logs' | 'diff' }) {
  useFleet();
  const now = useTick(1000);
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [strategy, setStrategy] = useState('merge');
  const [onItsWork, setOnItsWork] = useState(false);
  const agent = fleet.agents.get(id);

  useEffect(() => {
    api.get<Agent>(`/agents/${encodeURIComponent(id)}`)
      .then((fresh) => {
        fleet.apply(fresh);
        setError(undefined);
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, [id]);

  const act = async (what: string, call: () => Promise<unknown>, after?: (answer: unknown) => void) => {
    setBusy(true);
    setNotice(undefined);
    try {
      const answer = await call();
      if (answer && typeof answer === 'object' && 'id' in answer) fleet.apply(answer as Agent);
      setNotice(`${what}: done.`);
      after?.(answer);
    } catch (err) {
      const paths = err instanceof ApiError && Array.isArray(err.details.paths) ? ` (${err.details.paths.join(', ')})` : '';
      setNotice(`${what} failed: ${messageOf(err)}${paths}`);
    } finally {
      setBusy(false);
    }
  };

  const path = `/agents/${encodeURIComponent(id)}`;
  const kill = () => void act('Kill', () => api.post<Agent>(`${path}/kill`));
  const discard = () => {
    if (!confirm(`Discard agent ${id}? Its worktree and branch are deleted.`)) return;
    void act('Discard', async () => {
      try {
        await api.del(path);
      } catch (err) {
        // Commits that were never landed would be lost: the server asks, and so does the page.
        if (!(err instanceof ApiError && err.code === 'unmerged_commits')) throw err;
        if (!confirm(`${err.message}. Discard them anyway?`)) throw new Error('kept: nothing was discarded');
        await api.del(`${path}?force=true`);
      }
    }, () => {
      fleet.remove(id);
      navigate('#/');
    });
  };

  const land = () => void act('Land', async () => (await api.post<{ agent: Agent }>(`${path}/land`, { strategy })).agent);
  // The new agent is where the user wants to be next.
  const retry = () => void act('Retry', () => api.post<Agent>(`${path}/retry`, onItsWork ? { continue: true } : {}), (answer) => {
    navigate(agentHref((answer as Agent).id));
    setNotice(`Retry of ${id}: started.`);
  });

  if (!agent) {
    return (
      <section>
        <p><a href="#/">← Fleet</a></p>
        {error ? <p class="error" role="alert">{error}</p> : <p role="status">Loading…</p>}
      </section>
    );
  }
  const active = ACTIVE.includes(agent.state);
  return (
    <section aria-labelledby="agent-title">
      <p><a href="#/">← Fleet</a></p>
      <div class="title-row">
        <h1 id="agent-title">{agent.id}</h1>
        <StateBadge state={agent.state} />
        <div class="actions">
          {active && <button type="button" class="danger" disabled={busy || agent.killRequested} onClick={kill}>Kill</button>}
          {!active && !agent.instance && (
            <>
              <label class="inline">Strategy{' '}
                <select value={strategy} onChange={(e) => setStrategy(e.currentTarget.value)}>
                  <option value="merge">merge</option>
                  <option value="squash">squash</option>
                  <option value="rebase">rebase</option>
                </select>
              </label>
              <button type="button" disabled={busy} onClick={land}>Land</button>
              <label class="inline check"><input type="checkbox" checked={onItsWork} onChange={(e) => setOnItsWork(e.currentTarget.checked)} /> on its work</label>
              <button type="button" disabled={busy} onClick={retry}>Retry</button>
            </>
          )}
          {!active && <button type="button" class="danger" disabled={busy} onClick={discard}>Discard</button>}
        </div>
      </div>
      {notice && <p class="notice" role="status">{notice}</p>}
      <Summary agent={agent} now={now} />
      <nav class="tabs" aria-label="Agent output">
        <a href={agentHref(id, 'logs')} aria-current={tab === 'logs' ? 'page' : undefined}>Logs</a>
        <a href={agentHref(id, 'diff')} aria-current={tab === 'diff' ? 'page' : undefined}>Diff</a>
      </nav>
      {tab === 'logs' ? <Logs id={id} /> : <Diff id={id} version={agent.state} />}
    </section>
  );
}
