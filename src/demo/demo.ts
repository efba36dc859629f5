import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublicAgent, SpawnRequest } from '../agents/index.js';
import { TERMINAL_STATES, type AgentState } from '../agents/types.js';
import { formatAgentTable } from '../cli/agent-format.js';
import { ApiClient, CliError } from '../cli/client.js';
import { formatGrants, shortId } from '../cli/peer-format.js';
import type { ConnectionRecord } from '../federation/index.js';
import type { Grants } from '../federation/protocol/grants.js';
import { startInstance, type Instance } from '../instance/index.js';
import { makeDemoRepo } from './repo.js';
import { DEMO_AGENTS, type DemoAgent } from './scripts.js';
import { watchEvents, type EventWatch } from './watch.js';

/**
 * `npm run demo`: two instances on loopback federate by invite, and the hub
 * spawns, watches and kills agents on the spoke — every step a plain call
 * of the HTTP API (DESIGN §5), so this file doubles as a worked example.
 */

export interface DemoOptions {
  /** Where the demo prints, one line at a time. */
  out: (line: string) => void;
}

/** What the spoke lets the hub do. `command` runs any program: granted here only because the demo's agents are scripts. */
const DEMO_GRANTS: Grants = {
  commands: ['agent.spawn', 'agent.status', 'agent.kill', 'agent.list', 'agent.logs', 'agent.diff'],
  repos: ['web'],
  runtimes: ['command'],
  maxActiveAgents: 5,
};

const WAIT_MS = 20_000;
const POLL_MS = 100;
const LOG_LINES = 4;

interface Node {
  instance: Instance;
  api: ApiClient;
}

/** An instance with its own temporary home, on a free loopback port, quiet. */
async function startNode(root: string, name: string): Promise<Node> {
  const instance = await startInstance({
    env: {}, // not the caller's MOSAIC_* settings: the demo must never touch a real instance's home
    config: { home: join(root, name), host: '127.0.0.1', port: 0, name, logLevel: 'silent', killGraceMs: 2000 },
  });
  return { instance, api: new ApiClient({ url: instance.url, token: instance.adminToken }) };
}

/** Polls `read` until `done` holds. */
async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const indent = (text: string, by = '   ') => text.split('\n').map((line) => `${by}${line}`.trimEnd()).join('\n');

export async function runDemo(opts: DemoOptions): Promise<void> {
  const out = (text = '') => { for (const line of text.split('\n')) opts.out(line); };
  const began = Date.now();
  const root = mkdtempSync(join(tmpdir(), 'mosaic-demo-'));
  const nodes: Node[] = [];
  let watch: EventWatch | undefined;
  let stepName = '';
  const step = (n: number, title: string) => {
    stepName = title;
    out();
    out(`${n}. ${title}`);
  };

  try {
    out('Mosaic federation demo: a hub spawns, watches and kills agents on a spoke, over signed messages.');

    step(1, 'Starting two instances on loopback (temporary homes, no credentials)');
    const hub = await startNode(root, 'hub');
    nodes.push(hub);
    const spoke = await startNode(root, 'spoke');
    nodes.push(spoke);
    for (const [name, node] of [['hub', hub], ['spoke', spoke]] as const) {
      out(`   ${name.padEnd(5)}  ${node.instance.url}  instance ${node.instance.identity.instanceId}`);
    }

    step(2, "Creating the git repository 'web' and registering it on the spoke");
    const repoPath = join(root, 'web');
    makeDemoRepo(repoPath);
    await spoke.api.post('/repos', { name: 'web', path: repoPath });
    out(`   spoke: POST /api/v1/repos {name: 'web', path: '${repoPath}'}`);

    step(3, 'Connecting the hub to the spoke by invite');
    const invite = await spoke.api.post<{ token: string; expiresAt: number }>('/federation/invites', { grants: DEMO_GRANTS, ttlS: 300 });
    out(`   spoke: POST /api/v1/federation/invites → a single-use token, valid 5 minutes, granting ${formatGrants(DEMO_GRANTS)}`);
    out("   note: the 'command' runtime (any program as the agent) is granted for this demo only; grant it deliberately.");
    const hubSide = await hub.api.post<ConnectionRecord>('/federation/connections', { url: spoke.instance.url, token: invite.token, name: 'spoke' });
    const spokeSide = await spoke.api.get<ConnectionRecord>(`/federation/connections/${hub.instance.identity.instanceId}`);
    out(`   hub:   POST /api/v1/federation/connections {url, token} → '${hubSide.name}' ${hubSide.state}`);
    out(`   spoke: sees '${spokeSide.name}' (${shortId(spokeSide.instanceId)}) ${spokeSide.state}, ${spokeSide.direction}`);

    step(4, "Spawning three agents through the hub with peer: 'spoke'");
    watch = watchEvents(hub.api, out, '   [hub event]');
    const agents: PublicAgent[] = [];
    for (const spec of DEMO_AGENTS) {
      const agent = await spawnOnSpoke(hub.api, spec);
      agents.push(agent);
      out(`   spawned ${agent.id} on ${agent.peer ?? agent.instance}: ${spec.what} (${agent.state})`);
    }
    const [commits, edits, longJob] = agents as [PublicAgent, PublicAgent, PublicAgent];

    step(5, "Following the long job's log through the hub");
    const logs = await until('three progress lines of the long job', () => readLogs(hub.api, longJob.id), (lines) => lines.length >= 3);
    for (const line of logs.slice(0, 3)) out(`   [${longJob.taskId}] ${line}`);

    step(6, 'Killing the long job through the hub');
    await hub.api.post(`/agents/${longJob.id}/kill`);
    out(`   hub: POST /api/v1/agents/${longJob.id}/kill`);
    const killed = await untilEnded(hub.api, longJob.id);
    await watch.seen(longJob.id, 'killed', WAIT_MS);
    out(`   ${longJob.id}: ${killed.state}`);

    step(7, 'Waiting for the other two to complete');
    for (const agent of [commits, edits]) {
      const ended = await untilEnded(hub.api, agent.id);
      if (ended.state !== 'completed') throw new Error(`agent ${agent.id} ended ${ended.state}${ended.error ? ` (${ended.error.code}: ${ended.error.message})` : ''}`);
      await watch.seen(agent.id, 'completed', WAIT_MS);
      out(`   ${agent.id}: completed, ${ended.result?.commitsAhead ?? 0} commit(s) ahead, ${ended.result?.filesChanged ?? 0} file(s) changed`);
    }

    step(8, 'Their logs (GET /api/v1/agents/:id/logs on the hub)');
    for (const agent of agents) {
      for (const line of (await readLogs(hub.api, agent.id)).slice(0, LOG_LINES)) out(`   [${agent.taskId}] ${line}`);
    }

    step(9, 'Their diffs (GET /api/v1/agents/:id/diff on the hub)');
    for (const agent of [commits, edits]) {
      const diff = await hub.api.get<string>(`/agents/${agent.id}/diff`);
      if (!diff.includes('+++ b/')) throw new Error(`the diff of ${agent.id} is empty`);
      out(`   --- ${agent.id} (${agent.taskId}) ---`);
      out(indent(diff.trimEnd()));
    }

    await watch.stop();
    watch = undefined;
    step(10, 'The agents as the hub sees them (GET /api/v1/agents?scope=all)');
    const { agents: listed } = await hub.api.get<{ agents: PublicAgent[] }>('/agents', { scope: 'all' });
    out(indent(formatAgentTable(listed)));
  } catch (err) {
    throw new Error(`${stepName ? `${stepName}: ` : ''}${err instanceof CliError ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await watch?.stop();
    out();
    out('Cleaning up: closing both instances and removing their temporary homes.');
    // The spoke first: its agents are the hub's; closing it stops its event deliveries.
    await Promise.allSettled(nodes.reverse().map((node) => node.instance.close()));
    rmSync(root, { recursive: true, force: true });
  }
  out(`Done in ${((Date.now() - began) / 1000).toFixed(1)}s.`);
}

/** One spawn through the hub: the same request as a local spawn, plus `peer`. */
async function spawnOnSpoke(hub: ApiClient, agent: DemoAgent): Promise<PublicAgent> {
  const request: SpawnRequest = {
    peer: 'spoke',
    repo: 'web',
    taskId: agent.taskId,
    prompt: agent.prompt,
    runtime: { kind: 'command', argv: ['sh', '-c', agent.script] },
  };
  return hub.post<PublicAgent>('/agents', request);
}

async function readLogs(api: ApiClient, id: string): Promise<string[]> {
  return (await api.get<{ lines: string[] }>(`/agents/${id}/logs`)).lines;
}

async function untilEnded(api: ApiClient, id: string): Promise<PublicAgent> {
  return until(`agent ${id} to end`, () => api.get<PublicAgent>(`/agents/${id}`), (a) => (TERMINAL_STATES as readonly AgentState[]).includes(a.state));
}
