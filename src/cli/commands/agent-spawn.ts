import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { PublicAgent, RuntimeSpec, SpawnRequest } from '../../agents/index.js';
import { AGENT_TYPES } from '../../agents/types.js';
import { PERMISSION_MODES } from '../../agents/runtimes/claude.js';
import { CliError, messageOf, usageError } from '../client.js';
import { clientFor } from '../context.js';
import { integer, keyValue, nameArg, usd } from '../options.js';
import { endLine, exitCodeFor, waitTerminal } from '../agent-wait.js';
import { print, printError, printJson } from '../output.js';
import { followLogs, stillRunning } from './agent-logs.js';

interface SpawnOptions {
  repo: string;
  task: string;
  prompt?: string;
  promptFile?: string;
  type?: SpawnRequest['type'];
  runtime?: RuntimeSpec['kind'];
  baseBranch?: string;
  model?: string;
  maxTurns?: number;
  permissionMode?: string;
  priority?: number;
  timeout?: number;
  budget?: number;
  env?: Record<string, string>;
  peer?: string;
  node?: string;
  retryOnNodeLost?: boolean;
  idempotencyKey?: string;
  wait?: boolean;
  follow?: boolean;
  json?: boolean;
}

function readPrompt(opts: SpawnOptions): string {
  if (opts.prompt !== undefined && opts.promptFile !== undefined) throw usageError('use either --prompt or --prompt-file, not both');
  if (opts.prompt !== undefined) return opts.prompt;
  if (opts.promptFile === undefined) throw usageError('a prompt is required: --prompt <text> or --prompt-file <file>');
  try {
    return readFileSync(opts.promptFile === '-' ? 0 : opts.promptFile, 'utf8');
  } catch (err) {
    throw new CliError('prompt_unreadable', `cannot read ${opts.promptFile}: ${messageOf(err)}`, { exitCode: 2 });
  }
}

/**
 * The runtime from the options: `--runtime command` takes its argv after `--`;
 * argv without `--runtime` means command; claude options mean claude.
 */
export function runtimeFrom(opts: Pick<SpawnOptions, 'runtime' | 'model' | 'maxTurns' | 'permissionMode'>, argv: string[]): RuntimeSpec | undefined {
  const claudeOptions = opts.model !== undefined || opts.maxTurns !== undefined || opts.permissionMode !== undefined;
  if (opts.runtime === 'codex' || opts.runtime === 'gemini' || opts.runtime === 'opencode') {
    if (argv.length > 0) throw usageError(`unexpected arguments '${argv.join(' ')}' (a command after -- needs --runtime command)`);
    if (opts.maxTurns !== undefined || opts.permissionMode !== undefined) throw usageError('--max-turns and --permission-mode apply to the claude runtime only');
    return { kind: opts.runtime, ...(opts.model !== undefined ? { model: opts.model } : {}) };
  }
  const kind = opts.runtime ?? (argv.length > 0 ? 'command' : claudeOptions ? 'claude' : undefined);
  if (kind === 'command') {
    if (argv.length === 0) throw usageError('--runtime command needs the command after --, e.g. -- npm test');
    if (claudeOptions) throw usageError('--model, --max-turns and --permission-mode apply to the claude runtime only');
    return { kind: 'command', argv };
  }
  if (argv.length > 0) throw usageError(`unexpected arguments '${argv.join(' ')}' (a command after -- needs --runtime command)`);
  if (kind === undefined) return undefined;
  return {
    kind: 'claude',
    ...(opts.model !== undefined ? { model: opts.model } : {}),
    ...(opts.maxTurns !== undefined ? { maxTurns: opts.maxTurns } : {}),
    ...(opts.permissionMode !== undefined ? { permissionMode: opts.permissionMode } : {}),
  };
}

export function spawnCommand(): Command {
  return new Command('spawn')
    .description('start an agent in its own worktree (queued if the instance is busy)')
    .usage('--repo <repo> --task <id> --prompt <text> [options] [-- command argv...]')
    .argument('[argv...]', 'for --runtime command: the command to run, after --')
    .requiredOption('--repo <repo>', 'registered repository to work in', nameArg)
    .requiredOption('--task <id>', 'task id (names the branch: agent-<id>-<task>)', nameArg)
    .option('--prompt <text>', 'what the agent should do')
    .option('--prompt-file <file>', 'read the prompt from a file (- for stdin)')
    .addOption(new Option('--type <type>', 'agent role').choices(AGENT_TYPES))
    .addOption(new Option('--runtime <kind>', 'claude (default), codex, gemini, opencode or command').choices(['claude', 'codex', 'gemini', 'opencode', 'command']))
    .option('--base-branch <branch>', 'branch to start from (default: the repository\'s base branch)')
    .option('--model <model>', 'the model (claude, codex, gemini; opencode: provider/model)')
    .option('--max-turns <n>', 'claude turn limit', integer(1, 10_000))
    .addOption(new Option('--permission-mode <mode>', 'claude permission mode').choices([...PERMISSION_MODES]))
    .option('--priority <n>', '1..10, higher runs first (default 5)', integer(1, 10))
    .option('--timeout <seconds>', 'fail the agent after this long', integer(1, 7 * 24 * 3600))
    .option('--budget <usd>', 'USD the agent may spend; past it it is killed (budget_exceeded); claude also stops itself at it', usd())
    .option('--env <KEY=VALUE>', 'extra environment for the agent (repeatable)', keyValue)
    .option('--peer <peer>', 'run it on this federated peer (connection name or instance id)')
    .option('--node <node>', 'cluster: run it on this node only')
    .option('--retry-on-node-lost', 'cluster: if its node is lost, start it again on another node')
    .option('--idempotency-key <key>', 'a retried spawn with the same key returns the first agent')
    .option('--wait', 'wait until the agent ends; exit 0 completed, 1 failed, 3 killed')
    .option('--follow', 'print its output until it ends (as logs -f); exit 0 completed, 1 failed, 3 killed')
    .option('--json', 'print the agent as JSON (with --wait: the final record)')
    .addHelpText('after', `
Exit codes with --wait or --follow: 0 the agent completed, 1 it failed (or the spawn was refused),
3 it was killed, 2 usage error, 130 Ctrl-C (it stops waiting; the agent keeps running).`)
    .action(async (argv: string[], opts: SpawnOptions, command: Command) => {
      if (opts.wait && opts.follow) throw usageError('use either --wait or --follow, not both');
      if (opts.follow && opts.json) throw usageError('--follow prints the agent\'s output; use --wait --json for the final record');
      const runtime = runtimeFrom(opts, argv);
      const request: SpawnRequest = {
        taskId: opts.task,
        repo: opts.repo,
        prompt: readPrompt(opts),
        ...(opts.type ? { type: opts.type } : {}),
        ...(opts.baseBranch ? { baseBranch: opts.baseBranch } : {}),
        ...(runtime ? { runtime } : {}),
        ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
        ...(opts.timeout !== undefined ? { timeoutS: opts.timeout } : {}),
        ...(opts.budget !== undefined ? { budgetUsd: opts.budget } : {}),
        ...(opts.env ? { env: opts.env } : {}),
        ...(opts.peer ? { peer: opts.peer } : {}),
        ...(opts.node ? { node: opts.node } : {}),
        ...(opts.retryOnNodeLost ? { retryOnNodeLost: true } : {}),
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
      };
      const client = clientFor(command);
      const { status, body: agent } = await client.request<PublicAgent>('POST', '/agents', { body: request });
      const where = agent.instance ? ` on ${agent.peer ?? agent.instance}` : '';
      const spawned = `${status === 200 ? 'existing agent (same idempotency key)' : 'spawned'} ${agent.id}: ${agent.state}${where}, branch ${agent.branch}`;
      if (!opts.wait && !opts.follow) {
        if (opts.json) return printJson(agent);
        return print(spawned);
      }
      if (opts.follow) {
        printError(spawned);
        if ((await followLogs(client, agent.id, {})) === 'interrupted') return printError(stillRunning(agent.id));
      } else if (!opts.json) {
        print(spawned);
      }
      const ended = await waitTerminal(client, agent.id);
      if (opts.json) printJson(ended);
      else if (opts.follow) printError(endLine(ended));
      else print(endLine(ended));
      process.exitCode = exitCodeFor(ended);
    });
}
