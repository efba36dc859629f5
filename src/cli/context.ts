import type { Command } from 'commander';
import { loadConfig, resolveHome } from '../core/config.js';
import { homePaths, readAdminToken } from '../core/home.js';
import { liveServer } from '../core/server-lock.js';
import { ApiClient, CliError, messageOf } from './client.js';

/** Options every command inherits from the program. */
export interface GlobalOptions {
  url?: string;
}

export interface Target {
  home: string;
  url: string;
  /** Where the URL came from: `--url`, MOSAIC_URL, the live server's lock in the home, or the configuration. */
  urlFrom: 'flag' | 'env' | 'lock' | 'config';
  tokenPath: string;
  token: string | undefined;
}

/**
 * Where the CLI finds its instance: `--url`, else `MOSAIC_URL`, else — when
 * MOSAIC_PORT does not name another one — the server that holds
 * `$MOSAIC_HOME/server.lock` (so `mosaic up --port 7500` is found by every
 * verb of the same home), else the URL the configuration
 * (`$MOSAIC_HOME/config.json`, MOSAIC_HOST/PORT) gives; the admin token is
 * always read from `$MOSAIC_HOME/admin-token`.
 */
export function resolveTarget(globals: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Target {
  const home = resolveHome(env);
  const tokenPath = homePaths(home).adminToken;
  let url = globals.url ?? env.MOSAIC_URL;
  let urlFrom: Target['urlFrom'] = globals.url !== undefined ? 'flag' : 'env';
  if (!url && !env.MOSAIC_PORT) {
    url = liveServer(home)?.url;
    urlFrom = 'lock';
  }
  if (!url) {
    urlFrom = 'config';
    try {
      url = loadConfig(env).url;
    } catch (err) {
      throw new CliError('invalid_config', messageOf(err));
    }
  }
  if (!/^https?:\/\//i.test(url)) throw new CliError('invalid_url', `the instance URL must start with http:// or https://, got '${url}'`, { exitCode: 2 });
  return { home, url, urlFrom, tokenPath, token: readAdminToken(home) || undefined };
}

/** The API client for the command being run (reads global options from its ancestors). */
export function clientFor(command: Command): ApiClient {
  const target = resolveTarget(command.optsWithGlobals<GlobalOptions>());
  return new ApiClient({ url: target.url, token: target.token, tokenPath: target.tokenPath });
}
