import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { PublicAgent } from '../../agents/index.js';
import { agentPath, endLine, exitCodeFor, waitTerminal } from '../agent-wait.js';
import { CliError, messageOf, usageError } from '../client.js';
import { clientFor } from '../context.js';
import { nameArg } from '../options.js';
import { print, printError, printJson } from '../output.js';
import { followLogs, stillRunning } from './agent-logs.js';

interface ReplyOptions {
  promptFile?: string;
  wait?: boolean;
  follow?: boolean;
  json?: boolean;
}

function readMessage(words: string[], opts: ReplyOptions): string {
  if (words.length > 0 && opts.promptFile !== undefined) throw usageError('give the message either as arguments or with --prompt-file, not both');
  if (words.length > 0) return words.join(' ');
  if (opts.promptFile === undefined) throw usageError('a message is required: mosaic agents reply <id> <message…> (or --prompt-file <file>)');
  try {
    return readFileSync(opts.promptFile === '-' ? 0 : opts.promptFile, 'utf8');
  } catch (err) {
    throw new CliError('prompt_unreadable', `cannot read ${opts.promptFile}: ${messageOf(err)}`, { exitCode: 2 });
  }
}

/**
 * `mosaic agents reply <id> <message…>`: continue a finished agent's work
 * with a new instruction — a new agent on its branch tip that resumes its
 * claude session (POST /agents/:id/reply); a remote agent's runs on its peer.
 */
export function replyCommand(): Command {
  return new Command('reply')
    .description('follow up on a finished agent: a new agent continues its branch (and its claude session) with a new instruction')
    .argument('<id>', 'the finished agent', nameArg)
    .argument('[message...]', 'the new instruction (words are joined with spaces)')
    .option('--prompt-file <file>', 'read the instruction from a file (- for stdin)')
    .option('--wait', 'wait until the follow-up ends; exit 0 completed, 1 failed, 3 killed')
    .option('--follow', 'print its output until it ends; exit 0 completed, 1 failed, 3 killed')
    .option('--json', 'print the new agent as JSON (with --wait: the final record)')
    .action(async (id: string, words: string[], opts: ReplyOptions, command: Command) => {
      if (opts.wait && opts.follow) throw usageError('use either --wait or --follow, not both');
      if (opts.follow && opts.json) throw usageError('--follow prints the agent\'s output; use --wait --json for the final record');
      const client = clientFor(command);
      const agent = await client.post<PublicAgent>(`${agentPath(id)}/reply`, { prompt: readMessage(words, opts) });
      const where = agent.instance ? ` on ${agent.peer ?? agent.instance}` : '';
      const resumed = agent.followUpOf?.resumed ? `, resuming session ${agent.followUpOf.resumed}` : '';
      const line = `${agent.id}: ${agent.state}${where} (follow-up of ${id}${resumed}) branch ${agent.branch}`;
      if (!opts.wait && !opts.follow) return opts.json ? printJson(agent) : print(line);
      if (opts.follow) {
        printError(line);
        if ((await followLogs(client, agent.id, {})) === 'interrupted') return printError(stillRunning(agent.id));
      } else if (!opts.json) {
        print(line);
      }
      const ended = await waitTerminal(client, agent.id);
      if (opts.json) printJson(ended);
      else if (opts.follow) printError(endLine(ended));
      else print(endLine(ended));
      process.exitCode = exitCodeFor(ended);
    });
}
