#!/usr/bin/env node
import { CommanderError } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './client.js';
import { jsonRequested } from './output.js';
import { buildProgram } from './program.js';
import { endQuietlyWhenReaderLeaves } from './signals.js';

/** Reports a failure on stderr and sets the exit code (0 ok, 1 failure, 2 usage). */
function fail(err: unknown): void {
  if (err instanceof CommanderError) {
    // Commander has already printed help, the version or the usage error.
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
    return;
  }
  if (err instanceof CliError) {
    process.stderr.write(jsonRequested() ? `${JSON.stringify({ error: err.toJSON() })}\n` : `mosaic: ${err.code}: ${err.message}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  process.stderr.write(`mosaic: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = EXIT_FAILURE;
}

endQuietlyWhenReaderLeaves();
buildProgram().parseAsync(process.argv).catch(fail);
