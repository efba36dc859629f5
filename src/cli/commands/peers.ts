import { Command, Option } from 'commander';
import type { ConnectionRecord } from '../../federation/index.js';
import { MESSAGE_KINDS } from '../../federation/protocol/envelope.js';
import { MESSAGE_STATUSES } from '../../federation/store/types.js';
import { type ApiClient, usageError } from '../client.js';
import { clientFor } from '../context.js';
import { integer } from '../options.js';
import { formatDuration, formatTimestamp, print, printJson } from '../output.js';
import { formatConnection, formatConnectionTable, formatGrants, formatMessageTable, grantWarnings, shortId, type MessageView, type ShownConnection } from '../peer-format.js';
import { disconnectCommand } from './peer-disconnect.js';
import { grantOptions, grantsFromOptions, grantsWithDefaults, type GrantOptions } from './peer-grants.js';

const connectionPath = (peer: string) => `/federation/connections/${encodeURIComponent(peer)}`;
const PEER_ARG = 'connection name, instance id or connection id';

interface JsonOption {
  json?: boolean;
}

/** The connection as JSON, or its fields after a one-line headline. */
function report(connection: ConnectionRecord, headline: string, opts: JsonOption): void {
  if (opts.json) return printJson(connection);
  print(headline);
  print(formatConnection(connection));
}

/** This instance's advertised URL, for the hint after an invite; a failure only loses the hint. */
async function ownUrl(client: ApiClient): Promise<string | undefined> {
  try {
    return (await client.get<{ url: string }>('/federation/instance')).url;
  } catch {
    return undefined;
  }
}

function inviteCommand(): Command {
  return grantOptions(new Command('invite'), 'defaults')
    .description('create a single-use invite token for a peer (prints the token: hand it to the peer\'s admin)')
    .option('--ttl <seconds>', 'how long the token is valid (default 900 = 15 minutes)', integer(1, 7 * 24 * 3600))
    .option('--json', 'print {token, expiresAt, grants} as JSON')
    .addHelpText('after', `
The grants say what the peer that uses the token may do on THIS instance.
Defaults: every command (a peer only sees and controls the agents it spawned),
no repositories (so nothing can be spawned until you grant some), the claude
runtime only, and 1 active agent. Example:
  mosaic peers invite --repos web,api --max-agents 4`)
    .action(async (opts: GrantOptions & JsonOption & { ttl?: number }, command: Command) => {
      const client = clientFor(command);
      const grants = grantsWithDefaults(opts);
      const invite = await client.post<{ token: string; expiresAt: number }>('/federation/invites', {
        grants,
        ...(opts.ttl === undefined ? {} : { ttlS: opts.ttl }),
      });
      if (opts.json) return printJson({ ...invite, grants });
      const url = await ownUrl(client);
      print(`invite token (single use, expires ${formatTimestamp(invite.expiresAt)}, in ${formatDuration(invite.expiresAt - Date.now())}):`);
      print(`  ${invite.token}`);
      print(`grants for the peer that uses it: ${formatGrants(grants)}`);
      for (const note of grantWarnings(grants)) print(note);
      print('on the other instance, run:');
      print(`  mosaic peers connect ${url ?? '<this instance\'s url>'} --token ${invite.token}`);
    });
}

function connectCommand(): Command {
  return new Command('connect')
    .description('connect to a peer: active at once with its invite token, otherwise a request its admin must accept')
    .argument('<url>', 'the peer\'s base URL, e.g. http://10.0.0.5:7420')
    .option('--token <token>', 'invite token from the peer\'s admin (`mosaic peers invite` there)')
    .option('--name <name>', 'local name for the peer (default: the name it announces)')
    .option('--pull', 'pull the peer\'s agent events instead of waiting for pushes (when the peer cannot reach this instance, e.g. behind NAT)')
    .option('--json', 'print the connection as JSON')
    .action(async (url: string, opts: JsonOption & { token?: string; name?: string; pull?: boolean }, command: Command) => {
      if (!/^https?:\/\//i.test(url)) throw usageError(`the peer URL must start with http:// or https://, got '${url}'`);
      const connection = await clientFor(command).post<ConnectionRecord>('/federation/connections', {
        url,
        ...(opts.token === undefined ? {} : { token: opts.token }),
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(opts.pull ? { pull: true } : {}),
      });
      if (opts.json) return printJson(connection);
      const who = `${connection.name} (${shortId(connection.instanceId)}) at ${connection.url}`;
      if (connection.state === 'active') {
        print(`connected to ${who}: active`);
        print(`we may (there): ${formatGrants(connection.peerGrants)}`);
        print(`spawn there with: mosaic agents spawn --peer ${connection.name} --repo <repo> --task <id> --prompt <text>`);
      } else {
        print(`asked ${who} to connect: ${connection.state}`);
        if (connection.state === 'pending') {
          print('its admin must accept the request there: `mosaic peers list` shows it, `mosaic peers accept <name>` accepts it');
        }
      }
    });
}

/** `accept`, `reject`, `disconnect`, `suspend`, `resume`: one call on one connection, then its new state. */
function transition(name: string, description: string, call: (client: ApiClient, peer: string) => Promise<ConnectionRecord>, verb: string): Command {
  return new Command(name)
    .description(description)
    .argument('<peer>', PEER_ARG)
    .option('--json', 'print the connection as JSON')
    .action(async (peer: string, opts: JsonOption, command: Command) => {
      const connection = await call(clientFor(command), peer);
      report(connection, `${verb} ${connection.name}: ${connection.state}`, opts);
    });
}

function acceptCommand(): Command {
  return grantOptions(new Command('accept'), 'defaults')
    .description('accept a pending connection request, with the grants the peer gets here')
    .argument('<peer>', PEER_ARG)
    .option('--json', 'print the connection as JSON')
    .addHelpText('after', '\nGrant defaults are those of `mosaic peers invite`: all commands, no repositories, claude, 1 agent.')
    .action(async (peer: string, opts: GrantOptions & JsonOption, command: Command) => {
      const grants = grantsWithDefaults(opts);
      const connection = await clientFor(command).post<ConnectionRecord>(`${connectionPath(peer)}/accept`, { grants });
      if (opts.json) return printJson(connection);
      print(`accepted ${connection.name}: ${connection.state}`);
      print(formatConnection(connection));
      for (const note of grantWarnings(connection.grants)) print(note);
    });
}

function grantCommand(): Command {
  return grantOptions(new Command('grant'), 'unchanged')
    .description('change what a peer may do here (options left out keep their current value)')
    .argument('<peer>', PEER_ARG)
    .option('--json', 'print the connection as JSON')
    .addHelpText('after', '\nExample: mosaic peers grant hub --repos web --runtimes claude,command --max-agents 3')
    .action(async (peer: string, opts: GrantOptions & JsonOption, command: Command) => {
      const grants = grantsFromOptions(opts);
      if (Object.keys(grants).length === 0) throw usageError('name at least one of --commands, --repos/--no-repos, --runtimes, --max-agents');
      const connection = await clientFor(command).request<ConnectionRecord>('PATCH', connectionPath(peer), { body: { grants } });
      if (opts.json) return printJson(connection.body);
      print(`${connection.body.name} may now (here): ${formatGrants(connection.body.grants)}`);
      for (const note of grantWarnings(connection.body.grants)) print(note);
    });
}

function setCommand(): Command {
  return new Command('set')
    .description('rename a peer, change where it is reached, or switch how its agent events arrive (pushed by the peer, or pulled from it)')
    .argument('<peer>', PEER_ARG)
    .option('--name <name>', 'new local name')
    // Not --url: that is the global option naming the instance this CLI talks to, which commander reads
    // anywhere on the line, so the peer's new address (and the admin token with it) went there instead.
    .option('--peer-url <url>', 'where the peer is reached now (the instance there must have the same key)')
    .option('--pull', 'pull the peer\'s events (when the peer cannot reach this instance)')
    .option('--no-pull', 'wait for the peer to push its events (the default)')
    .option('--json', 'print the connection as JSON')
    .action(async (peer: string, opts: JsonOption & { name?: string; pull?: boolean; peerUrl?: string }, command: Command) => {
      const change = {
        ...(opts.name === undefined ? {} : { name: opts.name }),
        ...(opts.peerUrl === undefined ? {} : { url: opts.peerUrl }),
        ...(opts.pull === undefined ? {} : { pull: opts.pull }),
      };
      if (Object.keys(change).length === 0) throw usageError('name at least one of --name, --peer-url, --pull, --no-pull');
      const { body: connection } = await clientFor(command).request<ConnectionRecord>('PATCH', connectionPath(peer), { body: change });
      report(connection, `updated ${connection.name}`, opts);
    });
}

interface MessagesOptions extends JsonOption {
  peer?: string;
  status?: string;
  direction?: string;
  kind?: string;
  op?: string;
  logs?: boolean;
  limit?: number;
}

function messagesCommand(): Command {
  return new Command('messages')
    .description('signed messages sent to and received from peers, newest first, with their delivery status')
    .option('--peer <peer>', `only messages with this peer (${PEER_ARG})`)
    .addOption(new Option('--status <status>', 'only messages in this status').choices(MESSAGE_STATUSES))
    .addOption(new Option('--direction <dir>', 'in (received) or out (sent)').choices(['in', 'out']))
    .addOption(new Option('--kind <kind>', 'only this message kind').choices(MESSAGE_KINDS))
    .option('--op <name>', 'only this command, query or event (e.g. agent.spawn)')
    .option('--logs', 'include log reads (agent.logs, one per wait of a remote logs -f), left out by default')
    .option('--limit <n>', 'at most this many (default: the server\'s)', integer(1, 1000))
    .option('--json', 'print {messages: [...]} as JSON')
    .action(async (opts: MessagesOptions, command: Command) => {
      const query = { peer: opts.peer, status: opts.status, direction: opts.direction, kind: opts.kind, op: opts.op, logs: opts.logs ? '1' : undefined, limit: opts.limit };
      const result = await clientFor(command).get<{ messages: MessageView[] }>('/federation/messages', query);
      if (opts.json) return printJson(result);
      if (result.messages.length === 0) return print('no messages');
      print(formatMessageTable(result.messages));
    });
}

export function peersCommand(): Command {
  const peers = new Command('peers').description('federate with other instances: invite, connect, grant, disconnect');
  peers.addCommand(inviteCommand());
  peers.addCommand(connectCommand());

  peers.command('list')
    .alias('ls')
    .description('list peers with their state and grants both ways')
    .option('--json', 'print {connections: [...]} as JSON')
    .action(async (opts: JsonOption, command: Command) => {
      const result = await clientFor(command).get<{ connections: ShownConnection[] }>('/federation/connections');
      if (opts.json) return printJson(result);
      if (result.connections.length === 0) {
        return print('no peers — invite one with `mosaic peers invite`, or connect with `mosaic peers connect <url>`');
      }
      print(formatConnectionTable(result.connections));
    });

  peers.command('show')
    .description('show one peer')
    .argument('<peer>', PEER_ARG)
    .option('--json', 'print the connection as JSON')
    .action(async (peer: string, opts: JsonOption, command: Command) => {
      const connection = await clientFor(command).get<ConnectionRecord>(connectionPath(peer));
      if (opts.json) return printJson(connection);
      print(formatConnection(connection));
    });

  peers.addCommand(acceptCommand());
  peers.addCommand(transition('reject', 'reject a pending connection request (the peer is told)',
    (client, peer) => client.post(`${connectionPath(peer)}/reject`), 'rejected'));
  peers.addCommand(disconnectCommand());
  peers.addCommand(grantCommand());
  peers.addCommand(transition('suspend', 'refuse a peer\'s messages for now, keeping the connection and its grants',
    async (client, peer) => (await client.request<ConnectionRecord>('PATCH', connectionPath(peer), { body: { state: 'suspended' } })).body, 'suspended'));
  peers.addCommand(transition('resume', 'accept a suspended peer\'s messages again',
    async (client, peer) => (await client.request<ConnectionRecord>('PATCH', connectionPath(peer), { body: { state: 'active' } })).body, 'resumed'));
  peers.addCommand(setCommand());
  peers.addCommand(messagesCommand());
  return peers;
}
