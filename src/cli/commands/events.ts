import { Command } from 'commander';
import type { PublicAgent } from '../../agents/index.js';
import { formatEvent } from '../agent-format.js';
import { CliError, messageOf } from '../client.js';
import { clientFor } from '../context.js';
import { integer, nameArg } from '../options.js';
import { print, printError, printJsonLine, safeText } from '../output.js';
import { interruptible, sleep } from '../signals.js';

const RETRY_MS = 1000;
const EVENT_TYPES = new Set(['agent.state', 'agent.progress']);

interface EventsOptions {
  after?: number;
  agent?: string;
  repo?: string;
  json?: boolean;
}

/**
 * `mosaic events`: agent state changes and progress, one line each, until
 * Ctrl-C. Starts from now (as `docker events` does); `--after 0` replays the
 * history kept. When the connection drops after it was up (a server
 * restart), it reconnects and resumes after the last seq it saw, so nothing
 * is missed or repeated.
 */
export function eventsCommand(): Command {
  return new Command('events')
    .description('stream agent state changes and progress from now on, until Ctrl-C (--after 0 replays history)')
    .option('--after <seq>', 'replay the events after this sequence number first (0: all history kept)', integer(0))
    .option('--agent <id>', 'only events of this agent', nameArg)
    .option('--repo <repo>', 'only events of agents in this repository', nameArg)
    .option('--json', 'one JSON object per line: {seq, type, agent}')
    .action(async (opts: EventsOptions, command: Command) => {
      const client = clientFor(command);
      const interrupt = interruptible({ streaming: true });
      let last: number | undefined = opts.after;
      let connected = false;
      let warned = false;
      const wanted = (agent: PublicAgent) => (opts.agent === undefined || agent.id === opts.agent) && (opts.repo === undefined || agent.repo === opts.repo);
      try {
        while (!interrupt.signal.aborted) {
          try {
            const query = last === undefined ? { since: 'now' } : { after: last };
            for await (const frame of client.stream('/events', { query, signal: interrupt.signal })) {
              if (!connected || warned) {
                if (warned) printError('reconnected');
                connected = true;
                warned = false;
              }
              const seq = Number(frame.id);
              if (Number.isSafeInteger(seq)) last = seq;
              if (frame.event === 'events.gap') {
                const gap = JSON.parse(frame.data) as { message?: unknown };
                printError(`note: ${typeof gap.message === 'string' ? safeText(gap.message) : 'some events are no longer kept'}; \`mosaic agents list\` shows the current state`);
                continue;
              }
              if (!EVENT_TYPES.has(frame.event)) continue;
              const agent = JSON.parse(frame.data) as PublicAgent;
              if (!wanted(agent)) continue;
              if (opts.json) printJsonLine({ seq, type: frame.event, agent });
              else print(formatEvent(frame.event, agent));
            }
            connected = true; // the stream opened even if no event arrived
          } catch (err) {
            // Before the first connection, a failure is an answer (not running, bad token).
            if (!connected || (err instanceof CliError && err.status !== undefined)) throw err;
            if (!warned) printError(`connection lost (${messageOf(err)}); reconnecting…`);
            warned = true;
          }
          if (interrupt.signal.aborted) break;
          if (!warned) {
            printError('the server closed the event stream; reconnecting…');
            warned = true;
          }
          await sleep(RETRY_MS, interrupt.signal);
        }
      } finally {
        interrupt.dispose();
      }
    });
}
