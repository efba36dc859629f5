import { Command } from 'commander';

/** `mosaic up`: run the instance in the foreground until SIGINT/SIGTERM. */
export function upCommand(): Command {
  return new Command('up')
    .description('start this Mosaic instance in the foreground')
    .option('--host <host>', 'address to listen on (MOSAIC_HOST)')
    .option('--port <port>', 'port to listen on (MOSAIC_PORT)')
    .action(async (opts: { host?: string; port?: string }) => {
      const env = { ...process.env };
      if (opts.host) env.MOSAIC_HOST = opts.host;
      if (opts.port) env.MOSAIC_PORT = opts.port;
      // Loaded on demand: the server's modules are heavy, and every other verb starts faster without them.
      const { startInstance } = await import('../../instance/index.js');
      const instance = await startInstance({ env });
      instance.app.log.info({ url: instance.url, instanceId: instance.identity.instanceId, home: instance.config.home }, 'mosaic is up');
      const stop = (signal: string) => {
        instance.app.log.info({ signal }, 'stopping; running agents keep running under their supervisors');
        void instance.close().then(() => process.exit(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
