import { Command } from 'commander';
import type { PublicAgent } from '../../agents/index.js';
import { AGENT_STATES } from '../../agents/types.js';
import type { RepoRecord } from '../../store/types.js';

type RepoView = RepoRecord & { pool?: { ready: number; preparing: number; error?: string } };

/** `app 2/3 ready, web 0/2 ready (setup failed: exit code 1)`; null when no repository has a pool. */
function poolSummary(repos: readonly RepoView[]): string | null {
  const pooled = repos.filter((repo) => (repo.poolSize ?? 0) > 0);
  if (pooled.length === 0) return null;
  return pooled.map((repo) => `${repo.name} ${repo.pool?.ready ?? 0}/${repo.poolSize} ready`
    + (repo.pool?.preparing ? `, ${repo.pool.preparing} preparing` : '') + (repo.pool?.error ? ` (${repo.pool.error})` : '')).join('; ');
}
import type { Health, InstanceStatus } from '../client.js';
import { clientFor } from '../context.js';
import { formatResetTime } from './budgets.js';
import { formatDuration, formatFields, print, printJson } from '../output.js';

/** `claude paused until 14:05; codex close to its limit (until 15:00)`. */
function limitsLine(limits: NonNullable<Health['limits']>): string {
  return limits.map((l) => (l.state === 'paused'
    ? `${l.runtime} paused until ${formatResetTime(l.resetsAt)}`
    : `${l.runtime} close to its rate limit (until ${formatResetTime(l.resetsAt)})`)).join('; ');
}

/** `mosaic status`: is the instance up, and what is it doing. */
export function statusCommand(): Command {
  return new Command('status')
    .description('show the running instance: health, store, agents by state, repositories')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const health = await client.get<Health>('/health');
      const [{ agents }, { repos }, { store }] = await Promise.all([
        client.get<{ agents: PublicAgent[] }>('/agents', { scope: 'all' }),
        client.get<{ repos: RepoView[] }>('/repos'),
        client.get<InstanceStatus>('/status'),
      ]);
      const byState = Object.fromEntries(AGENT_STATES.map((state) => [state, 0])) as Record<string, number>;
      for (const agent of agents) byState[agent.state] = (byState[agent.state] ?? 0) + 1;
      const pools = repos.filter((repo) => (repo.poolSize ?? 0) > 0)
        .map((repo) => ({ repo: repo.name, size: repo.poolSize, ready: repo.pool?.ready ?? 0, preparing: repo.pool?.preparing ?? 0, ...(repo.pool?.error ? { error: repo.pool.error } : {}) }));
      if (opts.json) return printJson({ url: client.url, health, store, agents: { total: agents.length, byState }, repos: repos.length, pools });
      const poolLine = poolSummary(repos);
      const counts = AGENT_STATES.map((state) => `${byState[state] ?? 0} ${state}`).join(', ');
      print(formatFields([
        ['instance', `${health.instanceId} (${health.status})`],
        ['url', client.url],
        ['version', health.version],
        ['store', store.description],
        ['uptime', formatDuration(health.uptimeS * 1000)],
        ['agents', `${agents.length} total: ${counts}`],
        ['repos', String(repos.length)],
        ...(poolLine ? [['pools', poolLine] as [string, string]] : []),
        ...(health.limits && health.limits.length > 0 ? [['limits', limitsLine(health.limits)] as [string, string]] : []),
      ]));
    });
}
