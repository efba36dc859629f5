import { useEffect, useState } from 'preact/hooks';
import { api, messageOf } from '../api';
import { fleet } from '../fleet';
import { cost, duration, placeOf, runtimeLabel, shorten, staleReason, time, timingRows, turns } from '../format';
import { agentHref, navigate } from '../router';
import { ACTIVE, type Agent } from '../types';
import { AgentActions } from './Actions';
import { Diff } from './Diff';
import { Logs } from './Logs';
import { StateBadge } from './StateBadge';
import { waitingText } from './Fleet';
import { useFleet, useTick } from './use-fleet';

function Summary({ agent, now }: { agent: Agent; now: number }) {
  const t = turns(agent);
  const end = agent.endedAt ?? now;
  const rows: [string, string][] = [
    ['Repository', `${agent.repo} (${agent.branch} from ${agent.baseBranch})`],
    ['Task', agent.taskId],
    ['Type', agent.type],
    ['Instance', placeOf(agent) + (agent.stale ? ` — may be out of date: ${staleReason(agent, now)}` : '')],
    ...(agent.node ? [['Node', agent.node] as [string, string]] : []),
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
  if (agent.followUpOf) rows.push(['Follow-up of', `${agent.followUpOf.agentId}${agent.followUpOf.resumed ? ' (session resumed)' : ''}`]);
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

const PROMPT_FOLD_CHARS = 400;
const PROMPT_FOLD_LINES = 6;

/** The prompt, folded when long (its first line stays visible). */
function Prompt({ text }: { text: string }) {
  const long = text.length > PROMPT_FOLD_CHARS || text.split('\n').length > PROMPT_FOLD_LINES;
  if (!long) {
    return <div class="prompt"><h2>Prompt</h2><pre>{text}</pre></div>;
  }
  const first = text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
  return (
    <details class="prompt">
      <summary><strong>Prompt</strong> <span class="muted">{shorten(first, 100)} ({text.length} characters: show all)</span></summary>
      <pre>{text}</pre>
    </details>
  );
}

/** The agents of one conversation (follow-ups by `reply`), oldest first, as far as this page knows them. */
export function conversationOf(agent: Agent, agents: ReadonlyMap<string, Agent>): Agent[] {
  let root = agent;
  const seen = new Set([agent.id]);
  for (let up = agents.get(root.followUpOf?.agentId ?? ''); up && !seen.has(up.id); up = agents.get(up.followUpOf?.agentId ?? '')) {
    seen.add(up.id);
    root = up;
  }
  const chain = [root];
  const byParent = new Map<string, Agent[]>();
  for (const a of agents.values()) {
    const parent = a.followUpOf?.agentId;
    if (parent) byParent.set(parent, [...(byParent.get(parent) ?? []), a]);
  }
  const walk = (id: string, depth: number) => {
    if (depth > 100) return;
    for (const child of (byParent.get(id) ?? []).sort((a, b) => a.createdAt - b.createdAt)) {
      if (chain.includes(child)) continue;
      chain.push(child);
      walk(child.id, depth + 1);
    }
  };
  walk(root.id, 0);
  return chain;
}

function Conversation({ agent }: { agent: Agent }) {
  const chain = conversationOf(agent, fleet.agents);
  if (chain.length < 2 && !agent.followUpOf) return null;
  return (
    <div class="conversation">
      <h2>Conversation</h2>
      {agent.followUpOf && !fleet.agents.has(agent.followUpOf.agentId) && <p class="muted">Follow-up of {agent.followUpOf.agentId} (no longer listed).</p>}
      <ol aria-label="Conversation">
        {chain.map((a) => (
          <li key={a.id} aria-current={a.id === agent.id ? 'true' : undefined}>
            {a.id === agent.id ? <strong>{a.id}</strong> : <a href={agentHref(a.id)}>{a.id}</a>}{' '}
            <StateBadge state={a.state} />{a.landed && <span class="landed"> ✓ landed</span>}
            <pre class="conversation-prompt">{shorten(a.prompt ?? '', 300)}</pre>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** One agent: what it is, its live output, its diff, and what can be done with it. */
export function AgentView({ id, tab }: { id: string; tab: 'logs' | 'diff' }) {
  useFleet();
  const now = useTick(1000);
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const agent = fleet.agents.get(id);

  useEffect(() => {
    api.get<Agent>(`/agents/${encodeURIComponent(id)}`)
      .then((fresh) => {
        fleet.apply(fresh);
        setError(undefined);
      })
      .catch((err: unknown) => setError(messageOf(err)));
  }, [id]);

  if (!agent) {
    return (
      <section>
        <p><a href="#/">← Fleet</a></p>
        {error ? <p class="error" role="alert">{error}</p> : <p role="status">Loading…</p>}
      </section>
    );
  }
  return (
    <section aria-labelledby="agent-title">
      <p><a href="#/">← Fleet</a> · <a href="#/review">Review</a></p>
      <div class="title-row">
        <h1 id="agent-title">{agent.id}</h1>
        <StateBadge state={agent.state} />
        {agent.landed && <span class="landed">✓ landed</span>}
      </div>
      <AgentActions key={agent.id} agent={agent} onNotice={setNotice} onDiscarded={() => navigate('#/')} />
      {notice && <p class="notice" role="status">{notice}</p>}
      {agent.state === 'queued' && agent.waitingFor && <p class="notice" role="status" data-waiting={agent.waitingFor.reason}>Waiting: {waitingText(agent.waitingFor)}.</p>}
      <Summary agent={agent} now={now} />
      {agent.prompt && <Prompt text={agent.prompt} />}
      <Conversation agent={agent} />
      <nav class="tabs" aria-label="Agent output">
        <a href={agentHref(id, 'logs')} aria-current={tab === 'logs' ? 'page' : undefined}>Logs</a>
        <a href={agentHref(id, 'diff')} aria-current={tab === 'diff' ? 'page' : undefined}>Diff</a>
      </nav>
      {tab === 'logs' ? <Logs id={id} /> : <Diff id={id} version={agent.state} />}
    </section>
  );
}
