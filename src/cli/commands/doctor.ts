import { Command } from 'commander';
import type { CheckStatus } from '../checks.js';
import { CliError, EXIT_FAILURE } from '../client.js';
import { resolveTarget, type GlobalOptions, type Target } from '../context.js';
import { formatRows, print, printJson } from '../output.js';

const DEFAULT_URL = 'http://127.0.0.1:7420';
const MARK: Record<CheckStatus, string> = { ok: '✓', warn: '!', fail: '✗' };

/** `mosaic doctor`: works without a running server; exit 1 when a required check fails. */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check node, git, $MOSAIC_HOME, the store, the identity, claude and the server (exit 1 if a required check fails)')
    .option('--json', 'print the checks as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const env = process.env;
      const globals = command.optsWithGlobals<GlobalOptions>();
      let target: Target;
      try {
        target = resolveTarget(globals, env);
      } catch (err) {
        if (!(err instanceof CliError) || err.code !== 'invalid_config') throw err;
        // A broken config.json still deserves a report: the config check explains it.
        target = resolveTarget({ url: globals.url ?? env.MOSAIC_URL ?? DEFAULT_URL }, env);
      }
      // The checks load the store drivers and the sandbox probe: only doctor pays for them.
      const { runChecks } = await import('../checks.js');
      const checks = await runChecks({ home: target.home, url: target.url, urlFrom: target.urlFrom, token: target.token, env });
      const failed = checks.filter((check) => check.status === 'fail').length;
      const warned = checks.filter((check) => check.status === 'warn').length;
      if (opts.json) {
        printJson({ ok: failed === 0, checks });
      } else {
        print(formatRows(checks.map((check) => [MARK[check.status], check.name, check.detail])));
        print();
        print(failed === 0
          ? `all required checks passed${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}`
          : `${failed} required check${failed > 1 ? 's' : ''} failed`);
      }
      if (failed > 0) process.exitCode = EXIT_FAILURE;
    });
}
