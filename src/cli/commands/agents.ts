import { Command } from 'commander';
import type { AgentCheckout, PublicAgent } from '../../agents/index.js';
import { formatAgent, type Conversation } from '../agent-format.js';
import type { ApiClient } from '../client.js';
import { agentPath } from '../agent-wait.js';
import { clientFor } from '../context.js';
import { nameArg } from '../options.js';
import { print, printError, printJson } from '../output.js';
import { fetchCommand, landCommand, pushCommand, retryCommand } from './agent-land.js';
import { listCommand } from './agent-list.js';
import { logsCommand } from './agent-logs.js';
import { discardCommand, killAllCommand, killCommand } from './agent-kill.js';
import { replyCommand } from './agent-reply.js';
import { spawnCommand } from './agent-spawn.js';

/** Why a diff is empty, said on stderr so stdout stays a (possibly empty) diff. */
function emptyDiffNote(agent: PublicAgent & { checkout?: AgentCheckout }): string {
  if (agent.checkout?.branch === 'none') return `${agent.id} never started (it ended ${agent.state} before its branch was created): nothing to diff`;
  if (agent.state === 'queued') return `${agent.id} is queued: nothing to diff yet`;
  return `no changes: ${agent.branch} has nothing that ${agent.baseBranch} lacks`;
}

/**
 * The agents around one in its conversation: the one it follows up on, and
 * its follow-ups and theirs (`reply`), oldest first. They share its task, so
 * one list call finds them; without them (an older server) show goes on.
 */
async function conversationOf(client: ApiClient, agent: PublicAgent): Promise<Conversation> {
  let all: PublicAgent[];
  try {
    all = (await client.get<{ agents: PublicAgent[] }>('/agents', { taskId: agent.taskId, scope: 'all' })).agents;
  } catch {
    return { next: [] };
  }
  const previous = all.find((a) => a.id === agent.followUpOf?.agentId);
  const inConversation = new Set([agent.id]);
  const next: PublicAgent[] = [];
  for (const candidate of all) { // oldest first: a follow-up comes after the agent it follows
    if (candidate.followUpOf && inConversation.has(candidate.followUpOf.agentId) && !inConversation.has(candidate.id)) {
      inConversation.add(candidate.id);
      next.push(candidate);
    }
  }
  return { ...(previous ? { previous } : {}), next };
}

export function agentsCommand(): Command {
  const agents = new Command('agents').description('spawn, watch and stop agents');
  agents.addCommand(spawnCommand());
  agents.addCommand(listCommand());

  agents.command('show')
    .description('show one agent: state, branch, worktree, runtime, result')
    .argument('<id>', 'agent id', nameArg)
    .option('--json', 'print the agent record as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const agent = await client.get<PublicAgent>(agentPath(id));
      if (opts.json) return printJson(agent);
      print(formatAgent(agent, Date.now(), await conversationOf(client, agent)));
    });

  agents.addCommand(logsCommand());

  agents.command('diff')
    .description('diff of the agent\'s branch (and, while it runs, its uncommitted changes) against its base branch')
    .argument('<id>', 'agent id', nameArg)
    .option('--json', 'print {diff} as JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const diff = await client.get<string>(`${agentPath(id)}/diff`);
      if (opts.json) return printJson({ diff });
      if (diff !== '') return void process.stdout.write(diff.endsWith('\n') ? diff : `${diff}\n`);
      printError(emptyDiffNote(await client.get<PublicAgent>(agentPath(id))));
    });

  agents.addCommand(killCommand());
  agents.addCommand(killAllCommand());
  agents.addCommand(discardCommand());
  agents.addCommand(landCommand());
  agents.addCommand(pushCommand());
  agents.addCommand(retryCommand());
  agents.addCommand(replyCommand());
  agents.addCommand(fetchCommand());
  return agents;
}
