import { Command } from 'commander';
import type { PublicAgent } from '../../agents/index.js';
import { formatTransition } from '../agent-format.js';
import { CliError, messageOf } from '../client.js';
import { clientFor } from '../context.js';
import { integer } from '../options.js';
import { print, printError, printJsonLine } from '../output.js';
import { interruptible, sleep } from '../signals.js';

const RETRY_MS = 1000;

/**
 * `mosaic events`: every agent transition as one line, until Ctrl-C. When the
 * connection drops after it was up (a server restart), it reconnects and
 * resumes after the last seq it printed, so nothing is missed or repeated.
 */
export function eventsCommand(): Command {
  return new Command('events')
    .description('stream agent state changes until Ctrl-C (replays history after --after, default from the start)')
    .option('--after <seq>', 'only events after this sequence number', integer(0))
    .option('--json', 'one JSON object per line: {seq, type, agent}')
    .action(async (opts: { after?: number; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const interrupt = interruptible();
      let last = opts.after ?? 0;
      let connected = false;
      let warned = false;
      try {
        while (!interrupt.signal.aborted) {
          try {
            for await (const frame of client.stream('/events', { query: { after: last }, signal: interrupt.signal })) {
              if (!connected || warned) {
                if (warned) printError('reconnected');
                connected = true;
                warned = false;
              }
              const seq = Number(frame.id);
              if (Number.isSafeInteger(seq)) last = seq;
              if (frame.event !== 'agent.state') continue;
              const agent = JSON.parse(frame.data) as PublicAgent;
              if (opts.json) printJsonLine({ seq, type: frame.event, agent });
              else print(formatTransition(agent));
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
