import { Command, Option } from 'commander';
import type { PublicAgent } from '../../agents/index.js';
import { AGENT_STATES } from '../../agents/types.js';
import { formatAgentTable, staleNotes } from '../agent-format.js';
import type { ApiClient } from '../client.js';
import { clientFor } from '../context.js';
import { integer, nameArg } from '../options.js';
import { colorEnabled, print, printError, printJson } from '../output.js';
import { interruptible, sleep } from '../signals.js';

interface ListOptions {
  state?: string;
  repo?: string;
  task?: string;
  all?: boolean;
  limit?: number;
  quiet?: boolean;
  watch?: boolean;
  json?: boolean;
}

const WATCH_SETTLE_MS = 150;
const RETRY_MS = 1000;

async function fetchAgents(client: ApiClient, opts: ListOptions): Promise<PublicAgent[]> {
  const query = { state: opts.state, repo: opts.repo, taskId: opts.task, scope: opts.all ? 'all' : undefined };
  const { agents } = await client.get<{ agents: PublicAgent[] }>('/agents', query);
  // Oldest first, as the server sends them; --limit keeps the newest N (the end of the list).
  return opts.limit === undefined ? agents : agents.slice(-opts.limit);
}

function render(agents: PublicAgent[], opts: ListOptions): string {
  if (opts.json) return JSON.stringify({ agents }, null, 2);
  if (opts.quiet) return agents.map((agent) => agent.id).join('\n');
  return agents.length === 0 ? 'no agents' : formatAgentTable(agents, Date.now(), colorEnabled());
}

/**
 * `--watch`: prints the list again after every agent event (a terminal is
 * cleared first, a pipe gets one list per change with a blank line between),
 * until Ctrl-C or until the reader goes away.
 */
async function watch(client: ApiClient, opts: ListOptions): Promise<void> {
  const interrupt = interruptible({ streaming: true });
  const tty = process.stdout.isTTY === true && !opts.json;
  const show = async () => {
    const text = render(await fetchAgents(client, opts), opts);
    if (tty) process.stdout.write('\x1b[2J\x1b[H');
    print(tty ? `${text}\n\n(watching: Ctrl-C stops)` : `${text}\n`);
  };
  try {
    await show();
    while (!interrupt.signal.aborted) {
      try {
        for await (const _frame of client.stream('/events', { query: { since: 'now' }, signal: interrupt.signal })) {
          await sleep(WATCH_SETTLE_MS, interrupt.signal); // one redraw for a burst of transitions
          if (!interrupt.signal.aborted) await show();
        }
      } catch (err) {
        if (interrupt.signal.aborted) break;
        printError(`event stream lost (${err instanceof Error ? err.message : String(err)}); reconnecting…`);
      }
      await sleep(RETRY_MS, interrupt.signal);
    }
  } finally {
    interrupt.dispose();
  }
}

export function listCommand(): Command {
  return new Command('list')
    .alias('ls')
    .description('list agents, oldest first (by creation time; the newest is last)')
    .addOption(new Option('--state <state>', 'only agents in this state').choices(AGENT_STATES))
    .option('--repo <repo>', 'only agents in this repository', nameArg)
    .option('--task <id>', 'only agents of this task', nameArg)
    .option('--all', 'include agents running on federated peers')
    .option('--limit <n>', 'only the n most recently created agents', integer(1))
    .option('-q, --quiet', 'print agent ids only, one per line')
    .option('-w, --watch', 'print the list again whenever an agent changes (Ctrl-C stops)')
    .option('--json', 'print {agents: [...]} as JSON')
    .action(async (opts: ListOptions, command: Command) => {
      const client = clientFor(command);
      if (opts.watch) return watch(client, opts);
      const agents = await fetchAgents(client, opts);
      const text = render(agents, opts);
      if (text !== '') print(text);
      // On stderr, so the table, ids or JSON on stdout stay as they are.
      for (const note of staleNotes(agents)) printError(note);
    });
}
