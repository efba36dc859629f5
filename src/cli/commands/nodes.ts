import { Command } from 'commander';
import type { NodeView } from '../../cluster/nodes.js';
import { clientFor } from '../context.js';
import { formatTable, print, printJson } from '../output.js';

function ago(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s ago` : `${Math.round(s / 60)}m ago`;
}

function nodeTable(nodes: readonly NodeView[]): string {
  return formatTable(['NAME', 'STATE', 'CAPACITY', 'RUNNING', 'HEARTBEAT'],
    nodes.map((n) => [n.name, n.state, String(n.capacity), String(n.running), ago(n.heartbeatAt)]));
}

export function nodesCommand(): Command {
  const nodes = new Command('nodes').description('the nodes of a cluster (MOSAIC_DATABASE_URL + MOSAIC_CLUSTER_SECRET)');

  nodes.command('list')
    .alias('ls')
    .description('list the nodes, their state, capacity and running agents')
    .option('--json', 'print {nodes: [...]} as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const result = await clientFor(command).get<{ nodes: NodeView[] }>('/cluster');
      if (opts.json) return printJson(result);
      if (result.nodes.length === 0) return print('no nodes');
      print(nodeTable(result.nodes));
    });

  for (const verb of ['drain', 'undrain'] as const) {
    nodes.command(`${verb} <name>`)
      .description(verb === 'drain' ? 'the node finishes its agents and takes no new ones' : 'the node takes new agents again')
      .option('--json', 'print the node as JSON')
      .action(async (name: string, opts: { json?: boolean }, command: Command) => {
        const node = await clientFor(command).post<NodeView>(`/cluster/nodes/${encodeURIComponent(name)}/${verb}`);
        if (opts.json) return printJson(node);
        print(nodeTable([node]));
      });
  }
  return nodes;
}
