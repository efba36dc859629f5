import { AGENT_STATES, type AgentState, type LandRequest, type RetryRequest, type SpawnRequest } from '../../agents/index.js';
import { landBody, name, replyBody, retryBody, spawnBody } from '../../http/schemas.js';
import { agentLine, compactAgent } from './format.js';
import { objectSchema, type ToolDef } from './types.js';

const STATES_HELP = 'States: queued (waiting for a free slot), spawning (its worktree is being prepared), running, '
  + 'then one of completed (exited 0; its commits are on its branch), failed (see `error`), killed.';
const idOnly = objectSchema({ id: { ...name, description: 'the agent id' } }, ['id']);
const propertiesOf = (schema: { properties: Record<string, unknown> }): Record<string, unknown> => schema.properties;

export const spawnAgent: ToolDef = {
  name: 'spawn_agent',
  title: 'Spawn a coding agent',
  description: 'Start one coding agent on a task in a registered repository (see list_repos). It works in its own git worktree '
    + 'on its own branch, sandboxed, so many agents can work in parallel without touching each other or your checkout. '
    + 'Returns at once with the queued agent; call wait_agents with its id to wait until it ends (do not poll get_agent). '
    + 'Fan out by calling this several times with different taskIds, then wait_agents on all of them. '
    + '`runtime` is {"kind":"claude","model"?} (default) or {"kind":"command","argv":[...]} for any program; '
    + '`peer` runs it on a federated Mosaic instance (see list_peers). A repeated `idempotencyKey` returns the first agent instead of a second one.',
  inputSchema: spawnBody as unknown as Record<string, unknown>,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, { services }) {
    const { agent, created } = await services.agents.spawn(args as unknown as SpawnRequest);
    const text = created
      ? `Spawned agent ${agent.id} (${agent.state}) for task ${agent.taskId} in ${agent.repo} on branch ${agent.branch}. Call wait_agents({"ids":["${agent.id}"]}) to wait for it.`
      : `The idempotencyKey was used before: this is the agent it spawned. ${agentLine(agent)}`;
    return { structured: { agent, created }, text };
  },
};

export const listAgents: ToolDef = {
  name: 'list_agents',
  title: 'List agents',
  description: `The agents of this Mosaic instance, newest first, with their state, task, branch and result (prompts shortened). ${STATES_HELP} `
    + '`all: true` also lists agents this instance runs on federated peers.',
  inputSchema: objectSchema({
    state: { type: 'string', enum: [...AGENT_STATES], description: 'only agents in this state' },
    repo: { ...name, description: 'only agents of this repository' },
    all: { type: 'boolean', description: 'include agents running on peers (default false)' },
  }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(args, { services }) {
    const agents = await services.agents.list({
      ...(args.state === undefined ? {} : { state: args.state as AgentState }),
      ...(args.repo === undefined ? {} : { repo: args.repo as string }),
      scope: args.all === true ? 'all' : 'local',
    });
    const text = agents.length === 0 ? 'No agents.' : `${agents.length} agent(s):\n${agents.map(agentLine).join('\n')}`;
    return { structured: { agents: agents.map(compactAgent) }, text };
  },
};

export const getAgent: ToolDef = {
  name: 'get_agent',
  title: 'Show one agent',
  description: `One agent's whole record: prompt, runtime, state, error, result (summary, commits ahead, files changed, cost), `
    + `landing, and for agents here whether its worktree and branch exist. ${STATES_HELP} To wait for an agent use wait_agents instead of calling this repeatedly.`,
  inputSchema: idOnly,
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(args, { services }) {
    const id = args.id as string;
    const agent = await services.agents.get(id);
    const checkout = await services.agents.checkout(id);
    return { structured: { agent: checkout ? { ...agent, checkout } : agent }, text: agentLine(agent) };
  },
};

export const killAgent: ToolDef = {
  name: 'kill_agent',
  title: 'Kill an agent',
  description: 'Stop an agent that is queued, spawning or running (SIGTERM, then SIGKILL after a grace period). '
    + 'It ends `killed`; the work it committed stays on its branch. Refused for an agent that already ended.',
  inputSchema: idOnly,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async run(args, { services }) {
    const agent = await services.agents.kill(args.id as string);
    return { structured: { agent }, text: `Kill requested: ${agentLine(agent)}` };
  },
};

export const retryAgent: ToolDef = {
  name: 'retry_agent',
  title: 'Retry an agent',
  description: 'Start a new agent with the same request as one that ended (failed, killed, or completed but not good enough). '
    + '`continue: true` starts the new agent on the old one\'s branch tip so it builds on that work; `resume: true` continues '
    + 'a claude agent\'s recorded session. Returns the new agent; wait for it with wait_agents.',
  inputSchema: objectSchema({ id: { ...name, description: 'the agent to retry' }, ...propertiesOf(retryBody) }, ['id']),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, { services }) {
    const { id, ...request } = args;
    const agent = await services.agents.retry(id as string, request as RetryRequest);
    return { structured: { agent }, text: `Retry of ${id as string} spawned as agent ${agent.id} (${agent.state}). Call wait_agents({"ids":["${agent.id}"]}).` };
  },
};

export const landAgent: ToolDef = {
  name: 'land_agent',
  title: 'Land an agent\'s work',
  description: 'Bring a finished agent\'s branch into its base branch (or `into`), with `strategy` merge (default), squash or rebase. '
    + 'Computed without touching anyone\'s checkout; nothing changes when it fails: land_conflict (details.paths; see conflicts), '
    + 'target_dirty, nothing_to_land, agent_not_finished. Check agent_diff first.',
  inputSchema: objectSchema({ id: { ...name, description: 'the agent to land' }, ...propertiesOf(landBody) }, ['id']),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async run(args, { services }) {
    const { id, ...request } = args;
    const { agent, landed } = await services.agents.land(id as string, request as LandRequest);
    return { structured: { agent, landed }, text: `Landed ${agent.id} into ${landed.into} (${landed.strategy}): now at ${landed.commit}.` };
  },
};

export const discardAgent: ToolDef = {
  name: 'discard_agent',
  title: 'Discard an agent',
  description: 'Delete an ended agent: its record, its branch and its logs. A branch with commits that were never landed is refused '
    + 'with unmerged_commits unless `force: true` (that work is then lost). Kill a running agent first.',
  inputSchema: objectSchema({ id: { ...name, description: 'the agent to discard' }, force: { type: 'boolean', description: 'discard unlanded commits too' } }, ['id']),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  async run(args, { services }) {
    const id = args.id as string;
    await services.agents.discard(id, { force: args.force === true });
    return { structured: { discarded: id }, text: `Discarded agent ${id} and its branch.` };
  },
};

export const replyAgent: ToolDef = {
  name: 'reply_agent',
  title: 'Reply to a finished agent',
  description: 'Continue a finished agent\'s work with a new instruction (`prompt`): a new agent starts on the old one\'s branch tip, '
    + 'resuming its session where the runtime supports it (claude), linked by followUpOf. Use it for "now also do X" or "fix what the '
    + 'review found" instead of spawning from scratch. Refused while the agent still runs (agent_not_finished). Wait for the new one with wait_agents.',
  inputSchema: objectSchema({ id: { ...name, description: 'the finished agent to continue' }, ...propertiesOf(replyBody) }, ['id', 'prompt']),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run(args, { services }) {
    const id = args.id as string;
    const agent = await services.agents.reply(id, { prompt: args.prompt as string });
    return { structured: { agent }, text: `Follow-up of ${id} spawned as agent ${agent.id} (${agent.state}). Call wait_agents({"ids":["${agent.id}"]}).` };
  },
};
