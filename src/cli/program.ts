import { Command } from 'commander';
import { VERSION } from '../core/version.js';
import { upCommand } from './commands/up.js';

/** The `mosaic` command tree; each verb lives in its own module under commands/. */
export function buildProgram(): Command {
  const program = new Command('mosaic')
    .description('Run coding agents in parallel, each in its own git worktree')
    .version(VERSION)
    .showHelpAfterError();
  program.addCommand(upCommand());
  return program;
}
