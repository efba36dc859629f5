import { Command, Option } from 'commander';
import type { AgentLanding, PublicAgent } from '../../agents/index.js';
import { clientFor } from '../context.js';
import { print, printJson } from '../output.js';

const agentPath = (id: string) => `/agents/${encodeURIComponent(id)}`;

/** `mosaic agents land <id>`: merge, squash or rebase a finished agent's branch into its base (or --into). */
export function landCommand(): Command {
  return new Command('land')
    .description('land a finished agent\'s branch into its base branch (computed without a checkout)')
    .argument('<id>', 'agent id')
    .addOption(new Option('--strategy <strategy>', 'how the work lands').choices(['merge', 'squash', 'rebase']).default('merge'))
    .option('--into <branch>', 'target branch (default: the agent\'s base branch)')
    .option('-m, --message <text>', 'message of the merge or squash commit')
    .option('--json', 'print {agent, landed} as JSON')
    .action(async (id: string, opts: { strategy: string; into?: string; message?: string; json?: boolean }, command: Command) => {
      const body = { strategy: opts.strategy, ...(opts.into === undefined ? {} : { into: opts.into }), ...(opts.message === undefined ? {} : { message: opts.message }) };
      const result = await clientFor(command).post<{ agent: PublicAgent; landed: AgentLanding }>(`${agentPath(id)}/land`, body);
      if (opts.json) return printJson(result);
      print(`landed ${id} into ${result.landed.into} (${result.landed.strategy}): ${result.landed.commit}`);
    });
}
