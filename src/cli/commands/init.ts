import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { resolveHome } from '../../core/config.js';
import { ensureAdminToken, ensureHome, homePaths, modeOf } from '../../core/home.js';
import { loadOrCreateIdentity } from '../../federation/identity/index.js';
import { formatFields, print, printJson } from '../output.js';

interface InitOptions {
  json?: boolean;
  showToken?: boolean;
}

const octal = (mode: number | undefined) => (mode === undefined ? '?' : `0${mode.toString(8)}`);

/** `mosaic init`: creates $MOSAIC_HOME, the admin token and the identity key; safe to re-run. */
export function initCommand(): Command {
  return new Command('init')
    .description('create $MOSAIC_HOME (0700), the admin token (0600) and this instance\'s Ed25519 identity')
    .option('--show-token', 'also print the admin token (it grants full control of the instance)')
    .option('--json', 'print the result as JSON')
    .action((opts: InitOptions) => {
      const home = resolveHome();
      const paths = homePaths(home);
      const created = {
        home: !existsSync(home),
        adminToken: !existsSync(paths.adminToken),
        identity: !existsSync(paths.identityDir),
      };
      ensureHome(home);
      const token = ensureAdminToken(home);
      const identity = loadOrCreateIdentity(paths.identityDir);
      const result = {
        home,
        instanceId: identity.instanceId,
        publicKey: identity.publicKeyBase64,
        adminTokenPath: paths.adminToken,
        identityPath: paths.identityDir,
        created,
        ...(opts.showToken ? { adminToken: token } : {}),
      };
      if (opts.json) return printJson(result);
      const state = (fresh: boolean) => (fresh ? 'created' : 'exists');
      print(formatFields([
        ['home', `${home} (${octal(modeOf(home))}, ${state(created.home)})`],
        ['instance', identity.instanceId],
        ['identity', `${paths.identityDir} (${state(created.identity)})`],
        ['admin token', `${paths.adminToken} (${octal(modeOf(paths.adminToken))}, ${state(created.adminToken)})`],
        ...(opts.showToken ? [['token', token] as const] : []),
      ]));
      print();
      print('Start the instance with `mosaic up`; the CLI reads the admin token from the file above.');
    });
}
