import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, messageOf } from '../api';
import { useCluster } from '../cluster';
import { cost, duration, placeOf, runtimeLabel, staleReason, turns } from '../format';
import { agentHref } from '../router';
import { STATES, type Agent, type AgentState, type RuntimeLimit } from '../types';
import { StateBadge } from './StateBadge';
import { useFleet, useTick } from './use-fleet';

interface Filters {
  state: AgentState | '';
  repo: string;
  place: string;
}

/** "14:05" (local time). */
const clock = (at: number): string => new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });

/** Why a queued agent waits: "budget instance until 00:00", "claude paused until 14:05". */
export function waitingText(w: NonNullable<Agent['waitingFor']>): string {
  if (w.reason === 'no_capable_node') return `no node up has the ${w.runtime} runtime and repository ${w.repo}`;
  return w.reason === 'budget' ? `budget ${w.scope} spent until ${clock(w.resetsAt)}` : `${w.runtime} paused until ${clock(w.resetsAt)}`;
}

/** Rate-limit pauses, read every 15 s (an instance without /limits shows none). */
function useLimits(): RuntimeLimit[] {
  const [limits, setLimits] = useState<RuntimeLimit[]>([]);
  useEffect(() => {
    let live = true;
    const read = () => void api.get<{ limits: RuntimeLimit[] }>('/limits').then((r) => { if (live) setLimits(r.limits); }, () => undefined);
    read();
    const timer = setInterval(read, 15_000);
    return () => { live = false; clearInterval(timer); };
  }, []);
  return limits;
}

const matches = (agent: Agent, f: Filters): boolean =>
  (f.state === '' || agent.state === f.state) && (f.repo === '' || agent.repo === f.repo) && (f.place === '' || placeOf(agent) === f.place);

function Row({ agent, now, clustered }: { agent: Agent; now: number; clustered: boolean }) {
  const t = turns(agent);
  const usd = agent.result?.costUsd;
  return (
    <tr data-agent={agent.id} data-state={agent.state}>
      <td data-label="State">
        <StateBadge state={agent.state} />
        {agent.landed && <span class="landed" title={`landed into ${agent.landed.into} (${agent.landed.strategy})`}> ✓ landed</span>}
        {agent.stale && <span class="stale" title={`May be out of date: ${staleReason(agent, now)}`}> (stale)</span>}
        {agent.state === 'queued' && agent.waitingFor && <span class="waiting" data-waiting={agent.waitingFor.reason}> — waiting: {waitingText(agent.waitingFor)}</span>}
      </td>
      <td data-label="Agent"><a href={agentHref(agent.id)}>{agent.id}</a></td>
      <td data-label="Repository">{agent.repo}</td>
      <td data-label="Task">{agent.taskId}</td>
      <td data-label="Runtime" title={runtimeLabel(agent)}>{agent.runtime.kind} · {agent.type}</td>
      <td data-label="Instance">{placeOf(agent)}</td>
      {clustered && <td data-label="Node" data-node={agent.node ?? ''}>{agent.node ?? '-'}</td>}
      <td data-label="Progress">{t === undefined ? '' : `${t} turn${t === 1 ? '' : 's'}`}{usd === undefined ? '' : ` ${cost(usd)}`}</td>
      <td data-label="Age">{duration(now - agent.createdAt)}</td>
    </tr>
  );
}

/** All agents, local and remote, live from the event stream. */
export function FleetView() {
  const fleet = useFleet();
  const now = useTick(5000);
  const [filters, setFilters] = useState<Filters>({ state: '', repo: '', place: '' });
  const [notice, setNotice] = useState<string | undefined>();
  const limits = useLimits();
  const clustered = useCluster();
  const version = fleet.version;

  const { all, shown, counts, repos, places } = useMemo(() => {
    const all = [...fleet.agents.values()].sort((a, b) => b.createdAt - a.createdAt);
    const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<AgentState, number>;
    const repos = new Set<string>();
    const places = new Set<string>();
    for (const agent of all) {
      counts[agent.state] += 1;
      repos.add(agent.repo);
      places.add(placeOf(agent));
    }
    return { all, shown: all.filter((a) => matches(a, filters)), counts, repos: [...repos].sort(), places: [...places].sort() };
  }, [version, filters]);

  const killAll = async () => {
    if (!confirm('Kill every queued, spawning and running agent?')) return;
    try {
      const answer = await api.post<{ total: number; killed: number; failed: number }>('/agents/kill-all');
      setNotice(`Kill all: ${answer.killed} of ${answer.total} killed${answer.failed ? `, ${answer.failed} failed` : ''}.`);
    } catch (err) {
      setNotice(messageOf(err));
    }
  };

  const set = (patch: Partial<Filters>) => setFilters({ ...filters, ...patch });

  return (
    <section aria-labelledby="fleet-title">
      <div class="title-row">
        <h1 id="fleet-title">Fleet</h1>
        <a class="button" href="#/spawn">Spawn an agent</a>
        <button type="button" class="danger" onClick={() => void killAll()}>Kill all</button>
      </div>
      {notice && <p class="notice" role="status">{notice}</p>}
      {fleet.error && <p class="error" role="alert">{fleet.error}</p>}
      {limits.map((l) => (
        <p key={l.runtime} class={l.state === 'paused' ? 'notice limit-paused' : 'notice'} role="status" data-limit={l.runtime}>
          {l.state === 'paused' ? `${l.runtime} paused until ${clock(l.resetsAt)} (rate limit): its agents wait queued` : `${l.runtime} is close to its rate limit (until ${clock(l.resetsAt)})`}
        </p>
      ))}
      <ul class="counts" aria-label="Agents by state">
        {STATES.map((state) => (
          <li key={state}>
            <button type="button" class="chip" aria-pressed={filters.state === state} onClick={() => set({ state: filters.state === state ? '' : state })}>
              <StateBadge state={state} /> <strong data-count={state}>{counts[state]}</strong>
            </button>
          </li>
        ))}
      </ul>
      <div class="filters">
        <label>State
          <select value={filters.state} onChange={(e) => set({ state: e.currentTarget.value as AgentState | '' })}>
            <option value="">all</option>
            {STATES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
        <label>Repository
          <select value={filters.repo} onChange={(e) => set({ repo: e.currentTarget.value })}>
            <option value="">all</option>
            {repos.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label>Instance
          <select value={filters.place} onChange={(e) => set({ place: e.currentTarget.value })}>
            <option value="">all</option>
            {places.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
        <span class="muted" role="status">{shown.length} of {all.length} agents</span>
      </div>
      {all.length === 0
        ? <p class="empty">No agents yet. <a href="#/spawn">Spawn one</a>.</p>
        : (
          <table class="fleet">
            <thead>
              <tr><th>State</th><th>Agent</th><th>Repository</th><th>Task</th><th>Runtime · type</th><th>Instance</th>{clustered && <th>Node</th>}<th>Progress</th><th>Age</th></tr>
            </thead>
            <tbody>
              {shown.map((agent) => <Row key={agent.id} agent={agent} now={now} clustered={clustered} />)}
            </tbody>
          </table>
        )}
    </section>
  );
}
