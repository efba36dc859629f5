import { Command } from 'commander';
import type { AgentCheckout, PublicAgent } from '../../agents/index.js';
import { formatAgent } from '../agent-format.js';
import { agentPath } from '../agent-wait.js';
import { clientFor } from '../context.js';
import { nameArg } from '../options.js';
import { print, printError, printJson } from '../output.js';
import { fetchCommand, landCommand, pushCommand, retryCommand } from './agent-land.js';
import { listCommand } from './agent-list.js';
import { logsCommand } from './agent-logs.js';
import { discardCommand, killAllCommand, killCommand } from './agent-kill.js';
import { spawnCommand } from './agent-spawn.js';

/** Why a diff is empty, said on stderr so stdout stays a (possibly empty) diff. */
function emptyDiffNote(agent: PublicAgent & { checkout?: AgentCheckout }): string {
  if (agent.checkout?.branch === 'none') return `${agent.id} never started (it ended ${agent.state} before its branch was created): nothing to diff`;
  if (agent.state === 'queued') return `${agent.id} is queued: nothing to diff yet`;
  return `no changes: ${agent.branch} has nothing that ${agent.baseBranch} lacks`;
}

export function agentsCommand(): Command {
  const agents = new Command('agents').description('spawn, watch and stop agents');
  agents.addCommand(spawnCommand());
  agents.addCommand(listCommand());

  agents.command('show')
    .description('show one agent: state, branch, worktree, runtime, result')
    .argument('<id>', 'agent id', nameArg)
    .option('--json', 'print the agent record as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const agent = await clientFor(command).get<PublicAgent>(agentPath(id));
      if (opts.json) return printJson(agent);
      print(formatAgent(agent));
    });

  agents.addCommand(logsCommand());

  agents.command('diff')
    .description('diff of the agent\'s branch (and, while it runs, its uncommitted changes) against its base branch')
    .argument('<id>', 'agent id', nameArg)
    .option('--json', 'print {diff} as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const diff = await client.get<string>(`${agentPath(id)}/diff`);
      if (opts.json) return printJson({ diff });
      if (diff !== '') return void process.stdout.write(diff.endsWith('\n') ? diff : `${diff}\n`);
      printError(emptyDiffNote(await client.get<PublicAgent>(agentPath(id))));
    });

  agents.addCommand(killCommand());
  agents.addCommand(killAllCommand());
  agents.addCommand(discardCommand());
  agents.addCommand(landCommand());
  agents.addCommand(pushCommand());
  agents.addCommand(retryCommand());
  agents.addCommand(fetchCommand());
  return agents;
}
