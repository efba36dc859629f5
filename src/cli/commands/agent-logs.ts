import { Command } from 'commander';
import type { PublicAgent } from '../../agents/index.js';
import { agentPath, endLine } from '../agent-wait.js';
import { CliError, type ApiClient } from '../client.js';
import { renderLogLine } from '../../agents/runtimes/log-render.js';
import { clientFor } from '../context.js';
import { integer, nameArg } from '../options.js';
import { print, printError, printJson, printJsonLine, safeText } from '../output.js';
import { interruptible } from '../signals.js';

interface LogsOptions {
  follow?: boolean;
  after?: number;
  limit?: number;
  json?: boolean;
  raw?: boolean;
}

/** A log line as people read it (claude's stream-json rendered), or as written with --raw; always made terminal-safe. */
function show(line: string, opts: LogsOptions): void {
  if (opts.raw) return print(safeText(line));
  for (const shown of renderLogLine(line)) print(safeText(shown, { multiline: true }));
}

interface LogPage {
  lines: string[];
  next: number;
  ended: boolean;
}

const PAGE = 1000;

const logsPath = (id: string) => `/agents/${encodeURIComponent(id)}/logs`;

/** What Ctrl-C while following leaves behind: the agent, still running, and how to stop it. */
export const stillRunning = (id: string): string => `stopped following; ${id} keeps running (\`mosaic agents kill ${id}\` stops it)`;

/** Without --limit, pages through the whole log written so far. */
async function readLogs(client: ApiClient, id: string, opts: LogsOptions): Promise<void> {
  const all: LogPage = { lines: [], next: opts.after ?? 0, ended: false };
  for (;;) {
    const page = await client.get<LogPage>(logsPath(id), { after: all.next, limit: opts.limit ?? PAGE });
    if (opts.json) all.lines.push(...page.lines);
    else for (const line of page.lines) show(line, opts);
    all.next = page.next;
    all.ended = page.ended;
    if (opts.limit !== undefined) {
      if (!opts.json && page.lines.length === opts.limit) printError(`(more may follow: --after ${page.next})`);
      break;
    }
    if (page.lines.length === 0) break;
  }
  if (opts.json) printJson(all);
}

/**
 * Streams new lines until the agent ends (the server sends `end`: 'ended')
 * or Ctrl-C ('interrupted'; the process then exits 130, the agent runs on).
 */
export async function followLogs(client: ApiClient, id: string, opts: LogsOptions): Promise<'ended' | 'interrupted'> {
  const interrupt = interruptible({ streaming: true });
  try {
    const query = { follow: true, after: opts.after, limit: opts.limit };
    for await (const frame of client.stream(logsPath(id), { query, signal: interrupt.signal })) {
      if (frame.event === 'lines') {
        const data = JSON.parse(frame.data) as { lines: string[]; next: number };
        if (opts.json) printJsonLine(data);
        else for (const line of data.lines) show(line, opts);
      } else if (frame.event === 'end') {
        if (opts.json) printJsonLine({ ended: true, ...(JSON.parse(frame.data) as object) });
        return 'ended';
      } else if (frame.event === 'error') {
        const data = JSON.parse(frame.data) as { message?: string };
        throw new CliError('logs_failed', data.message ?? 'the server could not read the log');
      }
    }
    if (!interrupt.signal.aborted) {
      throw new CliError('stream_closed', 'the server closed the log stream before the agent ended (is it still up?)');
    }
    return 'interrupted';
  } finally {
    interrupt.dispose();
  }
}

export function logsCommand(): Command {
  return new Command('logs')
    .description('print an agent\'s output; -f follows it until the agent ends')
    .argument('<id>', 'agent id', nameArg)
    .option('-f, --follow', 'keep printing new lines until the agent ends (Ctrl-C stops)')
    .option('--after <cursor>', 'start after this cursor (the `next` of an earlier page)', integer(0))
    .option('--limit <n>', 'at most this many lines (one page)', integer(1, 10_000))
    .option('--raw', 'print the lines exactly as the agent wrote them (claude: stream-json)')
    .option('--json', 'print {lines, next, ended} (with -f: one JSON object per frame)')
    .action(async (id: string, opts: LogsOptions, command: Command) => {
      const client = clientFor(command);
      if (!opts.follow) return readLogs(client, id, opts);
      if ((await followLogs(client, id, opts)) === 'interrupted') return printError(stillRunning(id));
      // How it ended, on stderr: stdout stays the agent's output (--json: the end frame said it).
      if (!opts.json) printError(endLine(await client.get<PublicAgent>(agentPath(id))));
    });
}
