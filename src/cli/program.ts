import { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { agentsCommand } from './commands/agents.js';
import { conflictsCommand } from './commands/conflicts.js';
import { dbCommand } from './commands/db.js';
import { dashboardCommand } from './commands/dashboard.js';
import { doctorCommand } from './commands/doctor.js';
import { eventsCommand } from './commands/events.js';
import { initCommand } from './commands/init.js';
import { mcpCommand } from './commands/mcp.js';
import { nodesCommand } from './commands/nodes.js';
import { a2aCommand } from './commands/a2a.js';
import { budgetsCommand } from './commands/budgets.js';
import { peersCommand } from './commands/peers.js';
import { reposCommand } from './commands/repos.js';
import { statusCommand } from './commands/status.js';
import { upCommand } from './commands/up.js';
import { worktreesCommand } from './commands/worktrees.js';
import { completionCommand } from './commands/completion.js';
import { jsonRequested } from './output.js';

/** Applies settings to a command and all its subcommands (`addCommand` does not inherit them). */
function everyCommand(command: Command, apply: (command: Command) => void): void {
  apply(command);
  for (const sub of command.commands) everyCommand(sub, apply);
}

/**
 * The `mosaic` command tree; each verb group lives in its own module under
 * commands/ and is one `addCommand` here (federation's `peers` joins the same way).
 * Parse errors throw a CommanderError instead of exiting, so main.ts owns exit codes.
 */
export function buildProgram(): Command {
  const program = new Command('mosaic')
    .description('Run coding agents in parallel, each in its own git worktree')
    .version(VERSION)
    .option('--url <url>', 'URL of the instance to talk to (default: MOSAIC_URL, else from $MOSAIC_HOME/config.json or MOSAIC_HOST/MOSAIC_PORT)')
    .addHelpText('after', `
Environment:
  MOSAIC_HOME   home folder with the admin token and data (default ~/.mosaic)
  MOSAIC_URL    instance URL (overridden by --url)

Exit codes: 0 ok, 1 failure (API error, server not running, failed check), 2 usage error.`);
  program.addCommand(initCommand());
  program.addCommand(upCommand());
  program.addCommand(statusCommand());
  program.addCommand(doctorCommand());
  program.addCommand(reposCommand());
  program.addCommand(agentsCommand());
  program.addCommand(conflictsCommand());
  program.addCommand(worktreesCommand());
  program.addCommand(eventsCommand());
  program.addCommand(peersCommand());
  program.addCommand(dashboardCommand());
  program.addCommand(mcpCommand());
  program.addCommand(a2aCommand());
  program.addCommand(budgetsCommand());
  program.addCommand(dbCommand());
  program.addCommand(nodesCommand());
  program.addCommand(completionCommand(() => program));
  const json = jsonRequested();
  everyCommand(program, (command) => {
    command.exitOverride();
    // With --json a usage error is a JSON document with its code too, so scripts can read every failure the same way.
    if (json) command.configureOutput({ outputError: (text, write) => write(`${JSON.stringify({ error: { code: 'usage', message: text.replace(/^error: /, '').trim() } })}\n`) });
    else command.showHelpAfterError('(add --help for usage)');
  });
  return program;
}
