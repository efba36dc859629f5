import { Command, Option } from 'commander';
import { LOG_FORMATS, loadConfig } from '../../core/config.js';
import { VERSION } from '../../core/version.js';
import { CliError } from '../client.js';
import { upBanner } from './up-banner.js';

/** `mosaic up`: run the instance in the foreground until SIGINT/SIGTERM. */
export function upCommand(): Command {
  return new Command('up')
    .description('start this Mosaic instance in the foreground')
    .option('--host <host>', 'address to listen on (MOSAIC_HOST)')
    .option('--port <port>', 'port to listen on (MOSAIC_PORT)')
    .addOption(new Option('--log-format <format>', 'log lines for people (pretty) or machines (json); auto: pretty on a terminal (MOSAIC_LOG_FORMAT)')
      .choices(LOG_FORMATS))
    .addHelpText('after', `
Logs go to stdout at MOSAIC_LOG_LEVEL (default info; one line per HTTP request at debug).
Once the server listens, a banner on stderr names its URL, home, version and sandbox state.`)
    .action(async (opts: { host?: string; port?: string; logFormat?: string }) => {
      const env = { ...process.env };
      if (opts.host) env.MOSAIC_HOST = opts.host;
      if (opts.port) env.MOSAIC_PORT = opts.port;
      if (opts.logFormat) env.MOSAIC_LOG_FORMAT = opts.logFormat;
      // Loaded on demand: the server's modules are heavy, and every other verb starts faster without them.
      const [{ startInstance }, { resolveLogFormat }] = await Promise.all([
        import('../../instance/index.js'), import('../../core/logger.js'),
      ]);
      const instance = await startInstance({ env }).catch((err: unknown) => {
        throw portInUse(err) ?? err;
      });
      const { config, sandbox, url } = instance;
      instance.app.log.info({ url, instanceId: instance.identity.instanceId, home: config.home, version: VERSION, sandbox: sandbox.state }, 'mosaic is up');
      process.stderr.write(upBanner({
        version: VERSION, url, home: config.home, sandbox,
        logFormat: resolveLogFormat(config.logFormat),
        cliDefaultUrl: cliDefaultUrl(),
        repos: (await instance.store.repos.list()).length,
      }));
      const stop = (signal: string) => {
        instance.app.log.info({ signal }, 'stopping; running agents keep running under their supervisors');
        void instance.close().then(() => process.exit(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}

/** A port another program holds, said with what to do about it (`listen EADDRINUSE` alone does not). */
function portInUse(err: unknown): CliError | undefined {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code !== 'EADDRINUSE') return undefined;
  const where = e.port !== undefined ? `${e.address ?? ''}:${e.port}` : 'the address';
  return new CliError('port_in_use', `${where} is already in use (another Mosaic server, or another program): start with --port <n> (or MOSAIC_PORT), or stop what listens there`, { details: { address: e.address, port: e.port } });
}

/** The URL `mosaic <verb>` finds from this shell's environment without a lock, to tell whether it must be exported. */
function cliDefaultUrl(): string | undefined {
  try {
    return process.env.MOSAIC_URL ?? loadConfig(process.env).url;
  } catch {
    return undefined;
  }
}
