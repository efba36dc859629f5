import { Command } from 'commander';
import type { A2aTokenView, CreatedA2aToken } from '../../a2a/index.js';
import { clientFor } from '../context.js';
import { formatAgo, formatTable, print, printJson } from '../output.js';
import { formatGrants, grantWarnings } from '../peer-format.js';
import { grantOptions, grantsWithDefaults, type GrantOptions } from './peer-grants.js';

interface JsonOption {
  json?: boolean;
}

function createCommand(): Command {
  return grantOptions(new Command('create'), 'defaults')
    .description('mint a client token for an A2A agent, with grants (prints the secret once: only its hash is kept)')
    .option('--json', 'print {id, token, grants, createdAt} as JSON')
    .addHelpText('after', `
A token's grants are a federation peer's ("the peer" above is the A2A client):
it sees and cancels only the tasks it created; its agents always run sandboxed,
with origin a2a:<id>. Example:
  mosaic a2a tokens create --repos web --runtimes claude --max-agents 2`)
    .action(async (opts: GrantOptions & JsonOption, command: Command) => {
      const created = await clientFor(command).post<CreatedA2aToken>('/a2a/tokens', { grants: grantsWithDefaults(opts) });
      if (opts.json) return printJson(created);
      print(`A2A client token ${created.id} (shown once, keep it secret):`);
      print(`  ${created.token}`);
      print(`grants: ${formatGrants(created.grants)}`);
      for (const note of grantWarnings(created.grants)) print(note);
      print('the client sends it as Authorization: Bearer <token>; the agent card is at <url>/.well-known/agent-card.json');
    });
}

function listCommand(): Command {
  return new Command('list')
    .description('A2A client tokens: ids, grants and use (never the secrets)')
    .option('--json', 'print {tokens} as JSON')
    .action(async (opts: JsonOption, command: Command) => {
      const { tokens } = await clientFor(command).get<{ tokens: A2aTokenView[] }>('/a2a/tokens');
      if (opts.json) return printJson({ tokens });
      if (tokens.length === 0) return print('no A2A tokens (mosaic a2a tokens create)');
      const now = Date.now();
      print(formatTable(['ID', 'STATE', 'GRANTS', 'CREATED', 'LAST USED'], tokens.map((t) => [
        t.id, t.revokedAt === null ? 'active' : 'revoked', formatGrants(t.grants), formatAgo(t.createdAt, now), t.lastUsedAt === null ? '-' : formatAgo(t.lastUsedAt, now),
      ])));
    });
}

function revokeCommand(): Command {
  return new Command('revoke')
    .description('revoke an A2A client token: its next request is refused (its agents keep running: kill them by id)')
    .argument('<id>', 'the token id (from list)')
    .option('--json', 'print the revoked token as JSON')
    .action(async (id: string, opts: JsonOption, command: Command) => {
      const { body: token } = await clientFor(command).request<A2aTokenView>('DELETE', `/a2a/tokens/${encodeURIComponent(id)}`);
      if (opts.json) return printJson(token);
      print(`revoked A2A token ${token.id}`);
    });
}

/** `mosaic a2a tokens create|list|revoke`: credentials for other agents' A2A clients. */
export function a2aCommand(): Command {
  const tokens = new Command('tokens').description('client tokens for A2A agents (POST /a2a)')
    .addCommand(createCommand()).addCommand(listCommand()).addCommand(revokeCommand());
  return new Command('a2a').description('the A2A endpoint: other agents send tasks to this instance').addCommand(tokens);
}
