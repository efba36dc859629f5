import type { ConnectionRecord, MessageRecord, PeerContact } from '../federation/index.js';
import { COMMANDS } from '../federation/protocol/constants.js';
import type { Grants } from '../federation/protocol/grants.js';
import { dash, formatAgo, formatFields, formatTable, formatTimestamp } from './output.js';

/** How peers (federation connections) and their messages look in human output. */

/** A message as `GET /federation/messages` lists it: with the connection's name when known. */
export type MessageView = MessageRecord & { peerName: string | null };

/** Instance ids are 32 base32 characters; eight are plenty to tell peers apart in a table. */
export function shortId(instanceId: string): string {
  return instanceId.length > 10 ? `${instanceId.slice(0, 8)}…` : instanceId;
}

/** `agent.spawn` → `spawn`, and the full list → `all`. */
function commandsText(commands: readonly string[]): string {
  if (COMMANDS.every((c) => commands.includes(c))) return 'all';
  if (commands.length === 0) return 'none';
  return commands.map((c) => c.replace(/^agent\./, '')).join(',');
}

/** One line: `cmds=all repos=web,api runtimes=claude max=2`. */
export function formatGrants(grants: Grants | null | undefined): string {
  if (!grants) return '-';
  const repos = grants.repos.length === 0 ? 'none' : grants.repos.join(',');
  const runtimes = grants.runtimes.length === 0 ? 'none' : grants.runtimes.join(',');
  const extra = [
    ...(grants.projectConfig === true ? ['project-config=yes'] : []),
    ...(grants.baseBranches && grants.baseBranches.length > 0 ? [`bases=${grants.baseBranches.join(',')}`] : []),
    ...(grants.maxCostUsdPerDay !== undefined ? [`cost/day=$${grants.maxCostUsdPerDay}`] : []),
  ];
  return [`cmds=${commandsText(grants.commands)} repos=${repos} runtimes=${runtimes} max=${grants.maxActiveAgents} shell=${grants.shell === true ? 'yes' : 'no'} net=${grants.network ?? 'host'}`, ...extra].join(' ');
}

/** Why grants let a peer run nothing, or run arbitrary programs: worth a line after an invite or accept. */
export function grantWarnings(grants: Grants): string[] {
  const notes: string[] = [];
  if (grants.repos.length === 0) notes.push('note: no repositories granted — the peer can connect but not spawn agents (grant some with --repos)');
  else if (grants.maxActiveAgents === 0) notes.push('note: max-agents is 0 — the peer cannot spawn agents (raise it with --max-agents)');
  if (grants.runtimes.includes('command')) notes.push('note: the command runtime is granted — the peer can run any program in the granted repositories');
  return notes;
}

/** A connection as GET /federation/connections answers it: with its contact when the server tracks one. */
export type ShownConnection = ConnectionRecord & { contact?: PeerContact };

/** The CONTACT cell: `4s ago`, `unreachable 3m 05s`, or `-` when the peer has not been heard from since start. */
function contactCell(contact: PeerContact | undefined, now = Date.now()): string {
  if (!contact) return '-';
  if (contact.unreachableSince !== null) return `unreachable ${formatAgo(contact.unreachableSince, now).replace(/ ago$/, '')}`;
  return contact.lastContactAt === null ? '-' : formatAgo(contact.lastContactAt, now);
}

export function formatConnectionTable(connections: readonly ShownConnection[], now = Date.now()): string {
  return formatTable(
    ['NAME', 'INSTANCE', 'URL', 'STATE', 'DIRECTION', 'EVENTS', 'CONTACT', 'PEER MAY (HERE)', 'WE MAY (THERE)'],
    connections.map((c) => [
      c.name, shortId(c.instanceId), c.url, c.state, c.direction, c.pull ? 'pull' : 'push', contactCell(c.contact, now),
      formatGrants(c.grants), formatGrants(c.peerGrants),
    ]),
  );
}

/** `last heard from 4s ago`, or since when the peer cannot be reached and why. */
function contactText(contact: PeerContact, now = Date.now()): string {
  const heard = contact.lastContactAt === null ? 'not heard from since this server started' : `last heard from ${formatAgo(contact.lastContactAt, now)}`;
  if (contact.unreachableSince === null) return heard;
  return `unreachable since ${formatTimestamp(contact.unreachableSince)}${contact.error ? ` (${contact.error.slice(0, 160)})` : ''}; ${heard}`;
}

export function formatConnection(c: ShownConnection): string {
  return formatFields([
    ['name', c.name],
    ['instance', c.instanceId],
    ['url', c.url],
    ['state', c.state],
    ['direction', c.direction === 'outbound' ? 'outbound (this instance connected)' : 'inbound (the peer connected)'],
    ['peer may (here)', formatGrants(c.grants)],
    ['we may (there)', formatGrants(c.peerGrants) + (c.peerGrants && c.peerGrantsAt ? ` (as the peer said at ${formatTimestamp(c.peerGrantsAt)})` : '')],
    ...(c.grantsVersion > c.grantsNotified ? [['peer told', 'not yet: the change of its grants is sent again until it answers'] as [string, string]] : []),
    ['events', c.pull ? 'pulled from the peer' : 'pushed by the peer'],
    ...(c.contact ? [['contact', contactText(c.contact)] as [string, string]] : []),
    ['id', c.id],
    ['created', formatTimestamp(c.createdAt)],
    ['updated', formatTimestamp(c.updatedAt)],
  ]);
}

export function formatMessageTable(messages: readonly MessageView[], now = Date.now()): string {
  return formatTable(
    ['TIME', 'DIR', 'KIND', 'OP', 'PEER', 'STATUS', 'TRIES', 'ERROR'],
    messages.map((m) => [
      formatTimestamp(m.createdAt, { short: true, now }),
      m.direction,
      m.kind,
      dash(m.op),
      m.peerName ?? shortId(m.peer),
      m.status + (m.verified ? '' : ' (unverified)'),
      String(m.attempts),
      m.errorCode ? `${m.errorCode}${m.errorMessage ? `: ${m.errorMessage}` : ''}` : '-',
    ]),
  );
}
