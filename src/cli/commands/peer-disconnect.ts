import { Command } from 'commander';
import type { PublicAgent } from '../../agents/index.js';
import type { ConnectionRecord } from '../../federation/index.js';
import type { ApiClient } from '../client.js';
import { canAsk, confirm } from '../confirm.js';
import { clientFor } from '../context.js';
import { print, printError, printJson } from '../output.js';
import { formatConnection } from '../peer-format.js';

const connectionPath = (peer: string) => `/federation/connections/${encodeURIComponent(peer)}`;

interface DisconnectedAgents {
  killed: string[];
  orphaned: string[];
  failed: { agentId: string; code: string; message: string }[];
}

/** This instance's unfinished agents on the peer, as its API lists them (for the question before disconnecting). */
async function runningOn(client: ApiClient, conn: ConnectionRecord): Promise<PublicAgent[]> {
  const { agents } = await client.get<{ agents: PublicAgent[] }>('/agents', { scope: 'all' });
  return agents.filter((a) => a.instance === conn.instanceId && ['queued', 'spawning', 'running'].includes(a.state));
}

/**
 * `mosaic peers disconnect <peer> [--kill-agents]`: ends a connection. This
 * instance's agents still running on the peer would be left there, their
 * records here orphaned (no event about them is accepted afterwards): on a
 * terminal the CLI asks whether to kill them first; otherwise it leaves
 * them orphaned and says so, with what to do about them.
 */
export function disconnectCommand(): Command {
  return new Command('disconnect')
    .description('end a connection; the peer is told, and nothing from it is accepted afterwards')
    .argument('<peer>', 'connection name, instance id or connection id')
    .option('--kill-agents', 'first kill this instance\'s agents still running on the peer (and wait for them to end)')
    .option('--json', 'print the connection (with agents: {killed, orphaned, failed}) as JSON')
    .action(async (peer: string, opts: { killAgents?: boolean; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      let killAgents = opts.killAgents === true;
      if (!killAgents && canAsk(opts.json)) {
        const conn = await client.get<ConnectionRecord>(connectionPath(peer));
        const running = conn.state === 'active' ? await runningOn(client, conn) : [];
        if (running.length > 0) {
          killAgents = await confirm(`${running.length} agent${running.length === 1 ? '' : 's'} of this instance still run on ${conn.name} (${running.map((a) => a.id).join(', ')}).\n`
            + 'Kill them before disconnecting? (no: they keep running there, orphaned here) [y/N] ');
        }
      }
      const ended = await client.post<ConnectionRecord & { agents?: DisconnectedAgents }>(`${connectionPath(peer)}/disconnect`, killAgents ? { killAgents: true } : {});
      if (opts.json) return printJson(ended);
      print(`disconnected ${ended.name}: ${ended.state}`);
      print(formatConnection(ended));
      const agents = ended.agents;
      if (!agents) return;
      if (agents.killed.length > 0) printError(`killed before disconnecting: ${agents.killed.join(', ')}`);
      for (const f of agents.failed) printError(`could not kill ${f.agentId} on ${ended.name}: ${f.code}: ${f.message}`);
      if (agents.orphaned.length > 0) {
        printError(`warning: ${agents.orphaned.length} agent${agents.orphaned.length === 1 ? '' : 's'} left running on ${ended.name}, orphaned here `
          + `(${agents.orphaned.join(', ')}): their state here no longer changes, and nothing from here reaches them.`);
        printError(`  \`mosaic agents discard <id> --force\` forgets one here (${ended.name} keeps its own record); `
          + `next time, \`mosaic peers disconnect ${ended.name} --kill-agents\` kills them first.`);
      }
    });
}
