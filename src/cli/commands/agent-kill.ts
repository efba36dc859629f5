import { Command } from 'commander';
import type { KillAllReport, PublicAgent } from '../../agents/index.js';
import { agentPath, endLine, waitTerminal } from '../agent-wait.js';
import { CliError, EXIT_FAILURE } from '../client.js';
import { canAsk, confirm } from '../confirm.js';
import { clientFor } from '../context.js';
import { integer, nameArg } from '../options.js';
import { print, printError, printJson } from '../output.js';

/** What a kill request did, in words: the kill of a running agent completes later. */
export function killLine(agent: PublicAgent): string {
  if (agent.state === 'killed') return `killed ${agent.id} (it had not started)`;
  return `kill requested for ${agent.id} (${agent.state}): it ends as killed once its processes are gone — \`mosaic agents kill ${agent.id} --wait\` waits for that`;
}

export function killCommand(): Command {
  return new Command('kill')
    .description('stop an agent (SIGTERM, then SIGKILL after the grace period); returns once the kill is requested')
    .argument('<id>', 'agent id', nameArg)
    .option('--wait', 'wait until the agent has ended')
    .option('--wait-timeout <seconds>', 'give up waiting after this long', integer(1), 60)
    .option('--json', 'print the agent record as JSON')
    .action(async (id: string, opts: { wait?: boolean; waitTimeout: number; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      let agent = await client.post<PublicAgent>(`${agentPath(id)}/kill`);
      if (opts.wait) agent = await waitTerminal(client, id, opts.waitTimeout);
      if (opts.json) return printJson(agent);
      print(opts.wait ? endLine(agent) : killLine(agent));
    });
}

export function killAllCommand(): Command {
  return new Command('kill-all')
    .description('stop every active agent (exit 1 if any kill failed; agents orphaned by a disconnected peer are listed, not counted)')
    .option('--json', 'print {total, killed, failed, errors} as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const report = await clientFor(command).post<KillAllReport>('/agents/kill-all');
      if (opts.json) printJson(report);
      else {
        print(`kill requested for ${report.killed} of ${report.total} active agent${report.total === 1 ? '' : 's'}${report.failed ? `, ${report.failed} failed` : ''}`);
        for (const error of report.errors) print(`  ${error.agentId}${error.peer ? ` (on ${error.peer})` : ''}: ${error.code}: ${error.message}`);
        const orphaned = report.orphaned ?? [];
        if (orphaned.length > 0) {
          print(`not reachable: ${orphaned.length} orphaned agent${orphaned.length === 1 ? '' : 's'} on disconnected peers (their admins can kill them; \`mosaic agents discard <id> --force\` forgets one here):`);
          for (const o of orphaned) print(`  ${o.agentId} (on ${o.peer})`);
        }
      }
      if (report.failed > 0) process.exitCode = EXIT_FAILURE;
    });
}

/**
 * Discard protects work: when the agent's branch has commits its base does
 * not have, the server refuses (409 unmerged_commits) unless forced. On a
 * terminal the CLI asks; otherwise it needs --force.
 */
export function discardCommand(): Command {
  return new Command('discard')
    .description('delete a finished agent, its branch and its logs (asks first when the branch has commits its base lacks)')
    .argument('<id>', 'agent id', nameArg)
    .option('-f, --force', 'discard even when the branch has commits that are not in its base')
    .option('--json', 'print {discarded: id} as JSON')
    .action(async (id: string, opts: { force?: boolean; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      try {
        await client.delete(agentPath(id), opts.force ? { force: true } : undefined);
      } catch (err) {
        if (!(err instanceof CliError) || err.code !== 'unmerged_commits') throw err;
        if (!canAsk(opts.json)) throw new CliError(err.code, `${err.message} (pass --force)`, { status: err.status ?? 409, ...(err.details ? { details: err.details } : {}) });
        if (!(await confirm(`${err.message}.\nDiscard it anyway? [y/N] `))) {
          printError('not discarded');
          process.exitCode = EXIT_FAILURE;
          return;
        }
        await client.delete(agentPath(id), { force: true });
      }
      if (opts.json) return printJson({ discarded: id });
      print(`discarded ${id}`);
    });
}
