import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { MosaicError } from '../../core/errors.js';
import { CliError } from '../client.js';
import { formatTable, print, printJson } from '../output.js';

/** A store error as the CLI reports it: `mosaic: <code>: <message>`, exit 1. */
function asCliError(err: unknown): unknown {
  return err instanceof MosaicError ? new CliError(err.code, err.message, { status: err.status, ...(err.details ? { details: err.details } : {}) }) : err;
}

/** `mosaic db copy`: move a SQLite home's history into a PostgreSQL database. */
export function dbCommand(): Command {
  const db = new Command('db').description('the store: copy a SQLite home into PostgreSQL');
  db.addCommand(new Command('copy')
    .description('copy every table of a SQLite home (agents, events with their seqs, repositories, federation, A2A tokens) into an empty PostgreSQL database, in one transaction')
    .requiredOption('--from <home>', 'the Mosaic home whose mosaic.db to copy (no server may run on it)')
    .requiredOption('--to <url>', 'the postgres:// URL of a database without Mosaic tables')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
The source is migrated to this Mosaic's schema first (as starting it would). Refused: a target that already
holds Mosaic tables (database_not_empty), a home a server runs on (home_in_use). Then start the instance on the
copy with MOSAIC_HOME=<home> MOSAIC_DATABASE_URL=<url> mosaic up: worktrees, logs and the identity stay in the home.`)
    .action(async (opts: { from: string; to: string; json?: boolean }) => {
      if (!/^postgres(ql)?:\/\/./i.test(opts.to)) throw new CliError('usage', '--to must be a postgres:// URL', { exitCode: 2 });
      // Loaded on demand: the store and its migrations are heavy, other verbs start faster without them.
      const [{ acquireHomeLock }, { homePaths }, { instanceMigrations }, { copySqliteToPostgres }] = await Promise.all([
        import('../../instance/home-lock.js'), import('../../core/home.js'), import('../../instance/migrations.js'), import('../../store/copy.js'),
      ]);
      const home = resolve(opts.from);
      try {
        if (!existsSync(homePaths(home).db)) throw new MosaicError(404, 'store_not_found', `no SQLite store at ${homePaths(home).db}`, { file: homePaths(home).db });
        // Held while copying: no server may write the source meanwhile, and none starts on it until the copy is done.
        const lock = acquireHomeLock(home);
        try {
          const report = await copySqliteToPostgres({ sqliteFile: homePaths(home).db, url: opts.to, migrations: instanceMigrations() });
          if (opts.json) return printJson(report);
          print(`copied ${report.from} to ${report.to} (schema version ${report.schemaVersion}, last event seq ${report.lastEventSeq})`);
          print(formatTable(['TABLE', 'ROWS'], report.tables.map((t) => [t.table, String(t.rows)])));
        } finally {
          lock.release();
        }
      } catch (err) {
        throw asCliError(err);
      }
    }));
  return db;
}
