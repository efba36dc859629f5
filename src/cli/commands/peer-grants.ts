import { type Command, InvalidArgumentError } from 'commander';
import { isValidName } from '../../core/ids.js';
import { isAgentBranchName, isValidBranchName } from '../../git/index.js';
import { COMMANDS, RUNTIME_KINDS } from '../../federation/protocol/constants.js';
import { MAX_ACTIVE_AGENTS_LIMIT, type Grants } from '../../federation/protocol/grants.js';
import { integer, usd } from '../options.js';

/** The grant options (`--commands`, `--repos`, `--runtimes`, `--max-agents`) shared by invite, accept and grant. */
export interface GrantOptions {
  commands?: string[];
  /** `false` from `--no-repos`. */
  repos?: string[] | false;
  runtimes?: string[];
  maxAgents?: number;
  /** `--shell` / `--no-shell`. */
  shell?: boolean;
  network?: 'host' | 'none';
  /** `--project-config` / `--no-project-config`. */
  projectConfig?: boolean;
  /** `false` from `--no-base-branches`. */
  baseBranches?: string[] | false;
  /** `--max-cost-per-day <usd>`; `false` from `--no-max-cost-per-day`. */
  maxCostPerDay?: number | false;
}

/**
 * What `invite` and `accept` grant when an option is left out: every command
 * (a peer only ever sees its own agents), no repositories, claude only, and
 * one agent at a time. `command` is never a default: it runs any program.
 */
export const DEFAULT_GRANTS: Grants = { commands: [...COMMANDS], repos: [], runtimes: ['claude'], maxActiveAgents: 1 };

function items(value: string): string[] {
  return [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
}

/** `all`, or a comma list of commands; the `agent.` prefix may be left out (`spawn,status`). */
export function parseCommands(value: string): string[] {
  if (value.trim() === 'all') return [...COMMANDS];
  const list = items(value).map((c) => (c.includes('.') ? c : `agent.${c}`));
  const bad = list.filter((c) => !(COMMANDS as readonly string[]).includes(c));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown command ${bad.join(', ')} (choose from all, ${COMMANDS.join(', ')}).`);
  if (list.length === 0) throw new InvalidArgumentError('name at least one command, or all.');
  return list;
}

/** `*` for every registered repository, or a comma list of repository names. */
export function parseRepos(value: string): string[] {
  const list = items(value);
  if (list.includes('*')) return ['*'];
  const bad = list.filter((r) => !isValidName(r));
  if (bad.length > 0) throw new InvalidArgumentError(`not a repository name: ${bad.join(', ')}.`);
  if (list.length === 0) throw new InvalidArgumentError("name at least one repository, or '*' (use --no-repos for none).");
  return list;
}

/** A comma list of branch names a peer may spawn from besides each repository's base branch (never agent branches). */
export function parseBaseBranches(value: string): string[] {
  const list = items(value);
  const bad = list.filter((b) => !isValidBranchName(b) || isAgentBranchName(b));
  if (bad.length > 0) throw new InvalidArgumentError(`not a branch a peer may spawn from: ${bad.join(', ')} (agent branches never are).`);
  if (list.length === 0) throw new InvalidArgumentError('name at least one branch (use --no-base-branches for none).');
  return list;
}

export function parseRuntimes(value: string): string[] {
  const list = items(value);
  const bad = list.filter((r) => !(RUNTIME_KINDS as readonly string[]).includes(r));
  if (bad.length > 0) throw new InvalidArgumentError(`unknown runtime ${bad.join(', ')} (choose from ${RUNTIME_KINDS.join(', ')}).`);
  if (list.length === 0) throw new InvalidArgumentError('name at least one runtime.');
  return list;
}

/** Adds the grant options to `command`; `defaults` describes in --help what an omitted option means. */
export function grantOptions(command: Command, defaults: 'defaults' | 'unchanged'): Command {
  const when = (text: string) => (defaults === 'defaults' ? `(default: ${text})` : '(default: unchanged)');
  return command
    .option('--commands <list>', `commands the peer may send: all, or a comma list of ${COMMANDS.map((c) => c.replace('agent.', '')).join(', ')} ${when('all')}`, parseCommands)
    .option('--repos <list>', `repositories the peer may spawn agents in: comma list of names, or '*' for all ${when('none')}`, parseRepos)
    .option('--no-repos', 'grant no repositories')
    .option('--runtimes <list>', `runtimes the peer may use: claude and/or command — command runs any program, grant it deliberately ${when('claude')}`, parseRuntimes)
    .option('--max-agents <n>', `how many of the peer's agents may be active here at once ${when('1')}`, integer(0, MAX_ACTIVE_AGENTS_LIMIT))
    .option('--shell', `the peer's claude agents get shell tools (Bash); they always run in the sandbox ${when('no shell')}`)
    .option('--no-shell', "the peer's claude agents get no shell tool (only read/edit tools)")
    .option('--project-config', `the peer's agents' runtimes may load the configuration a repository carries (Claude Code hooks, MCP servers: code) ${when('no')}`)
    .option('--no-project-config', "the peer's agents' runtimes load none of the repository's own configuration")
    .option('--base-branches <list>', `branches the peer may spawn from besides each repository's base branch (comma list; never agent branches) ${when('none')}`, parseBaseBranches)
    .option('--no-base-branches', "the peer spawns only from each repository's base branch")
    .option('--max-cost-per-day <usd>', `USD the peer's agents here may spend per UTC day; past it their spawns wait queued ${when('no cap')}`, usd())
    .option('--no-max-cost-per-day', "no daily cost cap for the peer's agents")
    .option('--network <mode>', `host or none: none runs the peer's agents without network ${when('host')}`, (v: string) => {
      if (v !== 'host' && v !== 'none') throw new InvalidArgumentError("use host or none.");
      return v;
    })
    .addHelpText('after', '\nWhat a grant allows: the peer sees and controls only agents it spawned; they run sandboxed\n' +
      '(bubblewrap: own worktree read-write, private HOME and tmp, no access to this instance\'s home, other worktrees or\n' +
      'processes). claude only = the model edits files; --shell adds shell commands; command runs any program.');
}

/** The grants the options name, field by field; fields without an option are left out. */
export function grantsFromOptions(opts: GrantOptions): Partial<Grants> {
  const grants: Partial<Grants> = {};
  if (opts.commands !== undefined) grants.commands = opts.commands as Grants['commands'];
  if (opts.repos !== undefined) grants.repos = opts.repos === false ? [] : opts.repos;
  if (opts.runtimes !== undefined) grants.runtimes = opts.runtimes as Grants['runtimes'];
  if (opts.maxAgents !== undefined) grants.maxActiveAgents = opts.maxAgents;
  if (opts.shell !== undefined) grants.shell = opts.shell;
  if (opts.network !== undefined) grants.network = opts.network;
  if (opts.projectConfig !== undefined) grants.projectConfig = opts.projectConfig;
  if (opts.baseBranches !== undefined) grants.baseBranches = opts.baseBranches === false ? [] : opts.baseBranches;
  // null removes the cap (validateGrants).
  if (opts.maxCostPerDay !== undefined) (grants as Record<string, unknown>).maxCostUsdPerDay = opts.maxCostPerDay === false ? null : opts.maxCostPerDay;
  return grants;
}

/** The options over DEFAULT_GRANTS: a complete set, for invite and accept. */
export function grantsWithDefaults(opts: GrantOptions): Grants {
  return { ...DEFAULT_GRANTS, ...grantsFromOptions(opts) };
}
