import { Command } from 'commander';
import type { PublicAgent } from '../../agents/index.js';
import { AGENT_STATES } from '../../agents/types.js';
import type { RepoRecord } from '../../store/types.js';
import type { Health } from '../client.js';
import { clientFor } from '../context.js';
import { formatDuration, formatFields, print, printJson } from '../output.js';

/** `mosaic status`: is the instance up, and what is it doing. */
export function statusCommand(): Command {
  return new Command('status')
    .description('show the running instance: health, agents by state, repositories')
    .option('--json', 'print the status as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const health = await client.get<Health>('/health');
      const [{ agents }, { repos }] = await Promise.all([
        client.get<{ agents: PublicAgent[] }>('/agents', { scope: 'all' }),
        client.get<{ repos: RepoRecord[] }>('/repos'),
      ]);
      const byState = Object.fromEntries(AGENT_STATES.map((state) => [state, 0])) as Record<string, number>;
      for (const agent of agents) byState[agent.state] = (byState[agent.state] ?? 0) + 1;
      if (opts.json) return printJson({ url: client.url, health, agents: { total: agents.length, byState }, repos: repos.length });
      const counts = AGENT_STATES.map((state) => `${byState[state] ?? 0} ${state}`).join(', ');
      print(formatFields([
        ['instance', `${health.instanceId} (${health.status})`],
        ['url', client.url],
        ['version', health.version],
        ['uptime', formatDuration(health.uptimeS * 1000)],
        ['agents', `${agents.length} total: ${counts}`],
        ['repos', String(repos.length)],
      ]));
    });
}
