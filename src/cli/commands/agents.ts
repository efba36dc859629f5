import { Command, Option } from 'commander';
import type { KillAllReport, PublicAgent } from '../../agents/index.js';
import { AGENT_STATES, TERMINAL_STATES } from '../../agents/types.js';
import { formatAgent, formatAgentTable } from '../agent-format.js';
import { CliError, EXIT_FAILURE, type ApiClient } from '../client.js';
import { clientFor } from '../context.js';
import { integer } from '../options.js';
import { print, printJson } from '../output.js';
import { interruptible, sleep } from '../signals.js';
import { landCommand, retryCommand } from './agent-land.js';
import { logsCommand } from './agent-logs.js';
import { spawnCommand } from './agent-spawn.js';

interface ListOptions {
  state?: string;
  repo?: string;
  task?: string;
  all?: boolean;
  json?: boolean;
}

const agentPath = (id: string) => `/agents/${encodeURIComponent(id)}`;
const POLL_MS = 200;

/** Polls until the agent is terminal; Ctrl-C stops waiting (the kill itself was already sent). */
async function waitTerminal(client: ApiClient, id: string, timeoutS: number): Promise<PublicAgent> {
  const interrupt = interruptible();
  try {
    const deadline = Date.now() + timeoutS * 1000;
    for (;;) {
      const agent = await client.get<PublicAgent>(agentPath(id));
      if (TERMINAL_STATES.includes(agent.state)) return agent;
      if (interrupt.signal.aborted) throw new CliError('interrupted', `stopped waiting; ${id} is still ${agent.state}`);
      if (Date.now() > deadline) throw new CliError('wait_timeout', `${id} is still ${agent.state} after ${timeoutS}s`);
      await sleep(POLL_MS, interrupt.signal);
    }
  } finally {
    interrupt.dispose();
  }
}

export function agentsCommand(): Command {
  const agents = new Command('agents').description('spawn, watch and stop agents');
  agents.addCommand(spawnCommand());

  agents.command('list')
    .alias('ls')
    .description('list agents, newest first')
    .addOption(new Option('--state <state>', 'only agents in this state').choices(AGENT_STATES))
    .option('--repo <repo>', 'only agents in this repository')
    .option('--task <id>', 'only agents of this task')
    .option('--all', 'include agents running on federated peers (scope=all)')
    .option('--json', 'print {agents: [...]} as JSON')
    .action(async (opts: ListOptions, command: Command) => {
      const query = { state: opts.state, repo: opts.repo, taskId: opts.task, scope: opts.all ? 'all' : undefined };
      const result = await clientFor(command).get<{ agents: PublicAgent[] }>('/agents', query);
      if (opts.json) return printJson(result);
      if (result.agents.length === 0) return print('no agents');
      print(formatAgentTable(result.agents));
    });

  agents.command('show')
    .description('show one agent: state, branch, worktree, runtime, result')
    .argument('<id>', 'agent id')
    .option('--json', 'print the agent record as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const agent = await clientFor(command).get<PublicAgent>(agentPath(id));
      if (opts.json) return printJson(agent);
      print(formatAgent(agent));
    });

  agents.addCommand(logsCommand());

  agents.command('diff')
    .description('diff of the agent\'s branch against its base branch')
    .argument('<id>', 'agent id')
    .option('--json', 'print {diff} as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const diff = await clientFor(command).get<string>(`${agentPath(id)}/diff`);
      if (opts.json) return printJson({ diff });
      if (diff !== '') process.stdout.write(diff.endsWith('\n') ? diff : `${diff}\n`);
    });

  agents.command('kill')
    .description('stop an agent (SIGTERM, then SIGKILL after the grace period)')
    .argument('<id>', 'agent id')
    .option('--wait', 'wait until the agent has ended')
    .option('--wait-timeout <seconds>', 'give up waiting after this long', integer(1), 60)
    .option('--json', 'print the agent record as JSON')
    .action(async (id: string, opts: { wait?: boolean; waitTimeout: number; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      let agent = await client.post<PublicAgent>(`${agentPath(id)}/kill`);
      if (opts.wait) agent = await waitTerminal(client, id, opts.waitTimeout);
      if (opts.json) return printJson(agent);
      print(`${agent.id}: ${agent.state}${agent.error ? ` (${agent.error.code}: ${agent.error.message})` : ''}`);
    });

  agents.command('kill-all')
    .description('stop every active agent (exit 1 if any kill failed)')
    .option('--json', 'print {total, killed, failed, errors} as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const report = await clientFor(command).post<KillAllReport>('/agents/kill-all');
      if (opts.json) printJson(report);
      else {
        print(`killed ${report.killed} of ${report.total} active agent${report.total === 1 ? '' : 's'}${report.failed ? `, ${report.failed} failed` : ''}`);
        for (const error of report.errors) print(`  ${error.agentId}: ${error.code}: ${error.message}`);
      }
      if (report.failed > 0) process.exitCode = EXIT_FAILURE;
    });

  agents.command('discard')
    .description('delete a finished agent, its branch and its logs')
    .argument('<id>', 'agent id')
    .option('--json', 'print {discarded: id} as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      await clientFor(command).delete(agentPath(id));
      if (opts.json) return printJson({ discarded: id });
      print(`discarded ${id}`);
    });

  agents.addCommand(landCommand());
  agents.addCommand(retryCommand());
  return agents;
}
