import { Command, Option } from 'commander';
import type { AgentLanding, PublicAgent, PushResult } from '../../agents/index.js';
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

/** `mosaic agents retry <id>`: a new agent with the same request (optionally on the old work or session). */
export function retryCommand(): Command {
  return new Command('retry')
    .description('start a new agent with the same request as a finished one')
    .argument('<id>', 'agent id')
    .option('--continue', 'start on the previous agent\'s branch (its work) instead of the base branch')
    .option('--resume', 'claude agents: continue the recorded session (claude --resume)')
    .option('--json', 'print the new agent as JSON')
    .action(async (id: string, opts: { continue?: boolean; resume?: boolean; json?: boolean }, command: Command) => {
      const body = { ...(opts.continue ? { continue: true } : {}), ...(opts.resume ? { resume: true } : {}) };
      const agent = await clientFor(command).post<PublicAgent>(`${agentPath(id)}/retry`, body);
      if (opts.json) return printJson(agent);
      print(`${agent.id}: ${agent.state} (retry of ${id}${opts.continue ? ', on its branch' : ''}${opts.resume ? ', resuming its session' : ''}) branch ${agent.branch}`);
    });
}

/** `mosaic agents fetch <id>`: bring a remote agent's branch into the repository here. */
export function fetchCommand(): Command {
  return new Command('fetch')
    .description('bring a remote agent\'s branch into the local repository of the same name (as refs/heads/<agent branch>)')
    .argument('<id>', 'agent id')
    .option('--repo <name>', 'local repository to fetch into (default: the agent\'s repository name)')
    .option('--json', 'print {agent, fetched} as JSON')
    .action(async (id: string, opts: { repo?: string; json?: boolean }, command: Command) => {
      const result = await clientFor(command).post<{ agent: PublicAgent; fetched: { repo: string; branch: string; commit: string } }>(
        `${agentPath(id)}/fetch`, opts.repo === undefined ? {} : { repo: opts.repo });
      if (opts.json) return printJson(result);
      print(`fetched ${id} into ${result.fetched.repo}: ${result.fetched.branch} at ${result.fetched.commit}`);
    });
}

/** `mosaic agents push <id>`: send a finished agent's branch to a git remote of its repository (`--pr` opens a pull request with gh). */
export function pushCommand(): Command {
  return new Command('push')
    .description('push a finished agent\'s branch to a git remote of its repository (a remote agent\'s work is fetched first)')
    .argument('<id>', 'agent id')
    .option('--remote <name>', 'a remote the repository already has', 'origin')
    .option('--pr', 'also open a pull request with the GitHub CLI (gh must be installed on the server)')
    .option('--json', 'print {agent, pushed} as JSON')
    .action(async (id: string, opts: { remote: string; pr?: boolean; json?: boolean }, command: Command) => {
      const result = await clientFor(command).post<PushResult>(`${agentPath(id)}/push`, { remote: opts.remote, ...(opts.pr ? { pr: true } : {}) });
      if (opts.json) return printJson(result);
      print(`pushed ${result.pushed.branch} to ${result.pushed.remote} at ${result.pushed.commit}${result.pushed.pr ? `\npull request: ${result.pushed.pr}` : ''}`);
    });
}
