#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './client.js';
import { buildProgram } from './program.js';

/** Reports a failure on stderr and sets the exit code (0 ok, 1 failure, 2 usage). */
function fail(err: unknown): void {
  if (err instanceof CommanderError) {
    // Commander has already printed help, the version or the usage error.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
    return;
  }
  if (err instanceof CliError) {
    const args = process.argv.slice(2);
    const end = args.indexOf('--'); // what follows `--` is an agent's command, not our options
    const json = (end === -1 ? args : args.slice(0, end)).includes('--json');
    process.stderr.write(json ? `${JSON.stringify({ error: err.toJSON() })}\n` : `mosaic: ${err.code}: ${err.message}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  process.stderr.write(`mosaic: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = EXIT_FAILURE;
}

buildProgram().parseAsync(process.argv).catch(fail);
