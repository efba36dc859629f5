import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import type { ConnectionRecord } from '../federation/index.js';
import type { Grants } from '../federation/protocol/grants.js';
import { FAST_FEDERATION, startPair, type Pair } from '../test-support/federation.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import type { MessageView } from './peer-format.js';
import { runCli } from '../test-support/cli.js';
import { COMMANDS } from '../federation/protocol/constants.js';

/** The real `mosaic peers` CLI against two (for rejection, three) real instances on loopback. */

let pair: Pair;
let other: TestInstance;
const envOf = (t: TestInstance) => ({ MOSAIC_HOME: t.home, MOSAIC_URL: t.url });
const onHub = (...args: string[]) => runCli(args, envOf(pair.hub));
const onSpoke = (...args: string[]) => runCli(args, envOf(pair.spoke));
const json = <T>(text: string): T => JSON.parse(text) as T;

/** Through the CLI (`peers list --json`), or straight from the API where the CLI's list is not what a step tests. */
async function listed(t: TestInstance): Promise<ConnectionRecord[]> {
  const result = await runCli(['peers', 'list', '--json'], envOf(t));
  expect(result.code, result.stderr).toBe(0);
  return json<{ connections: ConnectionRecord[] }>(result.stdout).connections;
}

async function connections(t: TestInstance): Promise<ConnectionRecord[]> {
  return (await t.api<{ connections: ConnectionRecord[] }>('GET', '/federation/connections')).body.connections;
}

/** Every grantable command: the default grant, and what the CLI grants when none are named. */
const ALL_COMMANDS = [...COMMANDS];

beforeAll(async () => {
  [pair, other] = await Promise.all([startPair({ connect: false }), startTestInstance({ name: 'other', ...FAST_FEDERATION })]);
});

afterAll(async () => {
  await Promise.allSettled([pair?.stop(), other?.stop()]);
});

// One story, in order: each step starts from the state the previous one left.
describe('mosaic peers', () => {
  let token = '';

  it('invites on the spoke and connects the hub with the token: both sides active', async () => {
    const invited = await onSpoke('peers', 'invite', '--repos', 'web', '--runtimes', 'command', '--max-agents', '3', '--commands', 'spawn,status,list');
    expect(invited.code, invited.stderr).toBe(0);
    token = /^ {2}(\S+)$/m.exec(invited.stdout)?.[1] ?? '';
    expect(token.length).toBeGreaterThan(20);
    expect(invited.stdout).toMatch(/single use, expires .*, in 1[45]m/);
    expect(invited.stdout).toContain('cmds=spawn,status,list repos=web runtimes=command max=3 shell=no net=host');
    expect(invited.stdout).toContain('the command runtime is granted');
    expect(invited.stdout).toContain(`mosaic peers connect ${pair.spoke.url} --token ${token}`);

    const connected = await onHub('peers', 'connect', pair.spoke.url, '--token', token, '--name', 'spoke');
    expect(connected.code, connected.stderr).toBe(0);
    expect(connected.stdout).toMatch(/^connected to spoke \(\w{8}…\) at http:\/\/127\.0\.0\.1:\d+: active$/m);
    expect(connected.stdout).toContain('we may (there): cmds=spawn,status,list repos=web runtimes=command max=3 shell=no net=host');

    const [hubSide, spokeSide, table] = await Promise.all([listed(pair.hub), listed(pair.spoke), onSpoke('peers', 'list')]);
    expect(hubSide).toEqual([expect.objectContaining({ name: 'spoke', instanceId: pair.spoke.identity.instanceId, state: 'active', direction: 'outbound' })]);
    expect(spokeSide).toEqual([expect.objectContaining({ name: 'hub', instanceId: pair.hub.identity.instanceId, state: 'active', direction: 'inbound' })]);
    expect(spokeSide[0]?.grants).toEqual({ commands: ['agent.spawn', 'agent.status', 'agent.list'], repos: ['web'], runtimes: ['command'], maxActiveAgents: 3 });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+INSTANCE\s+URL\s+STATE\s+DIRECTION\s+EVENTS\s+CONTACT\s+PEER MAY \(HERE\)\s+WE MAY \(THERE\)$/);
    expect(lines[1]).toMatch(new RegExp(`^hub\\s+${pair.hub.identity.instanceId.slice(0, 8)}…\\s+${pair.hub.url}\\s+active\\s+inbound\\s+push\\s+(-|[\\dms ]+ ago)\\s+cmds=spawn,status,list`));
  });

  it('grant changes what the peer may do, and the spoke enforces it', async () => {
    const narrowed = await onSpoke('peers', 'grant', 'hub', '--runtimes', 'claude', '--commands', 'all', '--json');
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(json<ConnectionRecord>(narrowed.stdout).grants).toEqual({ commands: ALL_COMMANDS, repos: ['web'], runtimes: ['claude'], maxActiveAgents: 3 });
    const refused = await onHub('agents', 'spawn', '--peer', 'spoke', '--repo', 'web', '--task', 't1', '--prompt', 'p', '--', 'true');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^mosaic: runtime_not_granted: /);

    const widened = await onSpoke('peers', 'grant', pair.hub.identity.instanceId, '--runtimes', 'claude,command', '--repos', '*', '--max-agents', '5');
    expect(widened.code, widened.stderr).toBe(0);
    expect(widened.stdout).toContain('hub may now (here): cmds=all repos=* runtimes=claude,command max=5 shell=no net=host');
    const grants = (await connections(pair.spoke))[0]?.grants as Grants;
    expect(grants).toEqual({ commands: ALL_COMMANDS, repos: ['*'], runtimes: ['claude', 'command'], maxActiveAgents: 5 });
  });

  it('suspends and resumes; the hub switches to pulling events and back', async () => {
    // The hub's event mode is its own setting: it changes while the spoke suspends.
    const [suspended, pulling] = await Promise.all([onSpoke('peers', 'suspend', 'hub'), onHub('peers', 'set', 'spoke', '--pull', '--json')]);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(suspended.stdout).toMatch(/^suspended hub: suspended$/m);
    expect(pulling.code, pulling.stderr).toBe(0);
    expect(json<ConnectionRecord>(pulling.stdout)).toMatchObject({ name: 'spoke', pull: true });

    const refused = await onHub('agents', 'spawn', '--peer', 'spoke', '--repo', 'web', '--task', 't2', '--prompt', 'p', '--', 'true');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^mosaic: connection_suspended: /);

    const [resumed, pushed] = await Promise.all([onSpoke('peers', 'resume', 'hub', '--json'), onHub('peers', 'set', 'spoke', '--no-pull')]);
    expect(json<ConnectionRecord>(resumed.stdout).state).toBe('active');
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toMatch(/^updated spoke$/m);
    expect(pushed.stdout).toMatch(/^events\s+pushed by the peer$/m);
  });

  it('lists the tracked messages', async () => {
    const [listed, table] = await Promise.all([
      onSpoke('peers', 'messages', '--peer', 'hub', '--direction', 'in', '--kind', 'CONNECT', '--json'),
      onHub('peers', 'messages', '--peer', 'spoke'),
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    const messages = json<{ messages: MessageView[] }>(listed.stdout).messages;
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => m.kind === 'CONNECT' && m.direction === 'in' && m.peerName === 'hub')).toBe(true);
    expect(messages).toContainEqual(expect.objectContaining({ status: 'delivered', verified: true }));
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME\s+DIR\s+KIND\s+OP\s+PEER\s+STATUS\s+TRIES\s+ERROR$/);
    expect(table.stdout).toMatch(/out\s+CONNECT\s+connect\s+spoke\s+delivered\s+1\s+-/);
  });

  it('disconnects on both sides; a used or expired token is refused with its code and exit 1', async () => {
    const [ended, shortInvite] = await Promise.all([onSpoke('peers', 'disconnect', 'hub'), onSpoke('peers', 'invite', '--ttl', '1', '--json')]);
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toMatch(/^disconnected hub: disconnected$/m);
    expect((await connections(pair.hub))[0]?.state).toBe('disconnected');

    const reused = await onHub('peers', 'connect', pair.spoke.url, '--token', token);
    expect(reused.code).toBe(1);
    expect(reused.stderr).toMatch(/^mosaic: invite_used: /);

    const shortLived = json<{ token: string; expiresAt: number }>(shortInvite.stdout);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, shortLived.expiresAt - Date.now()) + 50));
    const expired = await onHub('peers', 'connect', pair.spoke.url, '--token', shortLived.token, '--json');
    expect(expired.code).toBe(1);
    expect(json<{ error: { code: string } }>(expired.stderr).error.code).toBe('invite_expired');
  });

  it('connects without a token as a request the spoke accepts with grants', async () => {
    const asked = await onHub('peers', 'connect', pair.spoke.url);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toMatch(/^asked spoke .*: pending$/m);
    expect(asked.stdout).toContain('mosaic peers accept');
    expect((await connections(pair.spoke))[0]).toMatchObject({ name: 'hub', state: 'pending', direction: 'inbound' });

    const accepted = await onSpoke('peers', 'accept', 'hub', '--repos', 'web', '--runtimes', 'command', '--max-agents', '2');
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/^accepted hub: active$/m);
    const [hub] = await connections(pair.hub);
    expect(hub).toMatchObject({ name: 'spoke', state: 'active', direction: 'outbound' });
    expect(hub?.peerGrants).toEqual({ commands: ALL_COMMANDS, repos: ['web'], runtimes: ['command'], maxActiveAgents: 2 });

    // The accepted grants work: the hub spawns on the spoke.
    const spawned = await onHub('agents', 'spawn', '--peer', 'spoke', '--repo', 'web', '--task', 'ok', '--prompt', 'p', '--json', '--', 'true');
    expect(spawned.code, spawned.stderr).toBe(0);
    const agent = json<PublicAgent>(spawned.stdout);
    expect(agent).toMatchObject({ peer: 'spoke', instance: pair.spoke.identity.instanceId });
    const all = json<{ agents: PublicAgent[] }>((await onHub('agents', 'list', '--all', '--json')).stdout).agents;
    expect(all.map((a) => [a.id, a.peer])).toContainEqual([agent.id, 'spoke']);
  });

  it('rejects a request; the requester sees it rejected', async () => {
    const asked = await runCli(['peers', 'connect', pair.spoke.url, '--name', 'spoke'], envOf(other));
    expect(asked.code, asked.stderr).toBe(0);
    const rejected = await onSpoke('peers', 'reject', 'other', '--json');
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(json<ConnectionRecord>(rejected.stdout)).toMatchObject({ name: 'other', state: 'rejected' });
    expect((await connections(other))[0]?.state).toBe('rejected');
  });

  it('reports unknown peers (exit 1) and bad usage (exit 2)', async () => {
    const [unknown, empty, badRepo, badUrl] = await Promise.all([
      onSpoke('peers', 'disconnect', 'nobody'),
      onSpoke('peers', 'grant', 'hub'),
      onSpoke('peers', 'invite', '--repos', 'bad name'),
      onHub('peers', 'connect', 'spoke:7420'),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^mosaic: connection_not_found: /);
    expect([empty.code, badRepo.code, badUrl.code]).toEqual([2, 2, 2]);
    expect(empty.stderr).toContain('name at least one of');
    expect(badRepo.stderr).toContain('not a repository name: bad name');
  });
});
