import { resolve } from 'node:path';
import { Command } from 'commander';
import type { RepoRecord } from '../../store/types.js';
import { quoteArg } from '../agent-format.js';
import { usageError } from '../client.js';
import { clientFor } from '../context.js';
import { collect, nameArg } from '../options.js';
import { dash, formatFields, formatTable, print, printJson } from '../output.js';

/** Options shared by `repos add` and `repos set` (the fields PATCH /repos/:name edits). */
export interface EditOptions {
  baseBranch?: string;
  setup?: string;
  setupArg?: string[];
  clearSetup?: boolean;
  copyFile?: string[];
  clearCopyFiles?: boolean;
  pool?: number;
  shareDir?: string[];
  clearShareDirs?: boolean;
  setupInput?: string[];
  defaultSetupInputs?: boolean;
  /** `--project-config` / `--no-project-config`. */
  projectConfig?: boolean;
  /** `--retry-on-node-lost` / `--no-retry-on-node-lost`. */
  retryOnNodeLost?: boolean;
}

/** A repository as the API shows it, with its warm pool. */
type RepoView = RepoRecord & { pool?: { size: number; ready: number; preparing: number; error?: string }; shareMode?: string | null };

/** How shareDirs reach a worktree, in words. */
const SHARE_MODES: Record<string, string> = {
  reflink: 'reflink (copy-on-write clones)',
  overlay: 'overlay (read-only shared snapshot, private layer per agent, in the sandbox)',
  copy: 'copy (a full copy per worktree: no reflinks here, no overlay without the sandbox)',
};

function poolSizeOption(value: string): number {
  if (!/^\d{1,2}$/.test(value)) throw usageError(`--pool takes a number of worktrees from 0 to 32, not '${value}'`);
  return Number(value);
}

/**
 * The setup argv: `--setup "npm ci && npm run build"` is a shell command run
 * with `sh -c`; `--setup-arg` repeated gives the argv itself (no shell).
 * undefined when neither is given.
 */
export function setupArgv(opts: { setup?: string; setupArg?: string[] }): string[] | undefined {
  if (opts.setup !== undefined && opts.setupArg !== undefined) throw usageError('use either --setup or --setup-arg, not both');
  if (opts.setup !== undefined) {
    if (opts.setup.trim() === '') throw usageError('--setup needs a command, e.g. --setup "npm ci"');
    return ['sh', '-c', opts.setup];
  }
  return opts.setupArg;
}

/** Adds the editable-field options to `repos add` (register: true) or `repos set`. */
function editOptions(command: Command, register: boolean): Command {
  command
    .option('--base-branch <branch>', register ? 'branch worktrees start from (default: the current branch)' : 'branch new worktrees start from')
    .option('--setup <command>', 'shell command run (with sh -c) in each new worktree before the agent starts, e.g. "npm ci"')
    .option('--setup-arg <arg>', 'one argument of a setup command run without a shell (repeat for each, in order)', collect)
    .option('--copy-file <file>', `untracked file copied from the main checkout into each worktree (repeatable${register ? '' : '; replaces the list'})`, collect)
    .option('--pool <n>', 'worktrees kept ready (checked out, setup done) so spawns start at once (0-32; 0: no pool)', poolSizeOption)
    .option('--share-dir <dir>', `directory of the main checkout (e.g. node_modules) given to each worktree without a full copy (repeatable${register ? '' : '; replaces the list'})`, collect)
    .option('--setup-input <glob>', `files whose change makes a pooled worktree re-run setup (repeatable; default: the common lockfiles${register ? '' : '; replaces the list'})`, collect)
    .option('--project-config', `local agents' runtimes load the configuration the repository carries (Claude Code hooks, MCP servers, skills …)${register ? ' (default)' : ''}`)
    .option('--no-project-config', "local agents' runtimes load none of it: a hook committed by one agent never runs in the next (peers never load it unless their grant says so)")
    .option('--retry-on-node-lost', 'cluster: an agent whose node is lost starts again on another node, unless its spawn says otherwise (never one pinned with --node)')
    .option('--no-retry-on-node-lost', `cluster: an agent whose node is lost just ends failed/node_lost${register ? ' (default)' : ''}`);
  if (!register) {
    command
      .option('--clear-setup', 'remove the setup command')
      .option('--clear-copy-files', 'copy no files into new worktrees')
      .option('--clear-share-dirs', 'share no directories')
      .option('--default-setup-inputs', 'go back to the default lockfiles as setup inputs');
  }
  return command;
}

/** The editable fields the options ask for, as the API's body. */
export function editBody(opts: EditOptions): Record<string, unknown> {
  const setup = setupArgv(opts);
  if (opts.clearSetup && setup) throw usageError('use either --clear-setup or --setup/--setup-arg, not both');
  if (opts.clearCopyFiles && opts.copyFile) throw usageError('use either --clear-copy-files or --copy-file, not both');
  if (opts.clearShareDirs && opts.shareDir) throw usageError('use either --clear-share-dirs or --share-dir, not both');
  if (opts.defaultSetupInputs && opts.setupInput) throw usageError('use either --default-setup-inputs or --setup-input, not both');
  return {
    ...(opts.baseBranch !== undefined ? { baseBranch: opts.baseBranch } : {}),
    ...(setup ? { setup } : {}),
    ...(opts.clearSetup ? { setup: null } : {}),
    ...(opts.copyFile ? { copyFiles: opts.copyFile } : {}),
    ...(opts.clearCopyFiles ? { copyFiles: [] } : {}),
    ...(opts.pool !== undefined ? { poolSize: opts.pool } : {}),
    ...(opts.shareDir ? { shareDirs: opts.shareDir } : {}),
    ...(opts.clearShareDirs ? { shareDirs: [] } : {}),
    ...(opts.setupInput ? { setupInputs: opts.setupInput } : {}),
    ...(opts.defaultSetupInputs ? { setupInputs: null } : {}),
    ...(opts.projectConfig !== undefined ? { projectConfig: opts.projectConfig } : {}),
    ...(opts.retryOnNodeLost !== undefined ? { retryOnNodeLost: opts.retryOnNodeLost } : {}),
  };
}

/** A setup argv as a user would type it: `npm ci` for `sh -c 'npm ci'`, quoted words otherwise. */
export function formatSetup(setup: readonly string[] | null | undefined): string {
  if (!setup || setup.length === 0) return '-';
  if (setup.length === 3 && setup[0] === 'sh' && setup[1] === '-c') return setup[2]!;
  return setup.map(quoteArg).join(' ');
}

/** `2 ready of 3, 1 preparing` (and the last preparation error), or `-` without a pool. */
export function formatPool(repo: RepoView): string {
  const size = repo.poolSize ?? 0;
  if (size === 0 && !repo.pool?.ready && !repo.pool?.preparing) return '-';
  const pool = repo.pool ?? { size, ready: 0, preparing: 0 };
  const text = `${pool.ready} ready of ${size}${pool.preparing > 0 ? `, ${pool.preparing} preparing` : ''}`;
  return pool.error ? `${text} (last error: ${pool.error})` : text;
}

function repoFields(repo: RepoView): [string, string][] {
  return [
    ['name', repo.name],
    ...(repo.url ? [['url', repo.url] as [string, string]] : []),
    ['path', repo.url ? `${repo.path} (this node's clone)` : repo.path],
    ['base branch', repo.baseBranch],
    ['setup', formatSetup(repo.setup)],
    ['copy files', repo.copyFiles.length > 0 ? repo.copyFiles.join(', ') : '-'],
    ['pool', formatPool(repo)],
    ['share dirs', repo.shareDirs && repo.shareDirs.length > 0 ? repo.shareDirs.join(', ') : '-'],
    ...(repo.shareMode ? [['share mode', SHARE_MODES[repo.shareMode] ?? repo.shareMode] as [string, string]] : []),
    ['setup inputs', repo.setupInputs ? (repo.setupInputs.length > 0 ? repo.setupInputs.join(', ') : '(none)') : 'default lockfiles'],
    ['project config', repo.projectConfig === false ? 'off (runtimes load no hooks, MCP servers, skills … from the repository)' : 'on'],
    ...(repo.retryOnNodeLost ? [['retry on node lost', 'yes (cluster: unless a spawn says otherwise)'] as [string, string]] : []),
  ];
}

const repoPath = (name: string) => `/repos/${encodeURIComponent(name)}`;

export function reposCommand(): Command {
  const repos = new Command('repos').description('register the git repositories agents may run in');

  editOptions(repos.command('add'), true)
    .description('register a repository: a local checkout (the path is resolved from the current directory), or a git URL every node clones (--git-url)')
    .argument('<name>', 'name agents refer to it by', nameArg)
    .argument('[path]', 'path of the main checkout (not with --git-url)')
    // Not `--url`: that is the global option naming the Mosaic server, which commander reads anywhere on the line.
    .option('--git-url <url>', 'share it by this git URL (https://, ssh://, user@host:path, file:///path): each node keeps its own clone, agents\' branches are pushed there')
    .option('--json', 'print the repository as JSON')
    .addHelpText('after', `
Examples:
  mosaic repos add app ~/src/app --setup "npm ci" --copy-file .env
  mosaic repos add web ~/src/web --setup "npm ci" --pool 2 --share-dir node_modules
  mosaic repos add api ./api --setup-arg make --setup-arg "deps all"
  mosaic repos add web --git-url git@github.com:acme/web.git --setup "npm ci"   (a cluster: every node clones it)`)
    .action(async (name: string, path: string | undefined, opts: EditOptions & { json?: boolean; gitUrl?: string }, command: Command) => {
      if (opts.gitUrl !== undefined && path !== undefined) throw usageError('give either a path or --git-url, not both');
      if (opts.gitUrl === undefined && path === undefined) throw usageError('give the path of the main checkout, or --git-url <url>');
      const where = opts.gitUrl !== undefined ? { url: opts.gitUrl } : { path: resolve(path as string) };
      const body = { name, ...where, ...editBody(opts) };
      const repo = await clientFor(command).post<RepoView>('/repos', body);
      if (opts.json) return printJson(repo);
      print(`registered ${repo.name}`);
      print(formatFields(repoFields(repo)));
    });

  editOptions(repos.command('set'), false)
    .description('edit a registered repository; applies to agents spawned afterwards')
    .argument('<name>', 'repository name', nameArg)
    .option('--json', 'print the repository as JSON')
    .addHelpText('after', `
Examples:
  mosaic repos set app --setup "npm ci && npm run build"
  mosaic repos set app --base-branch develop --clear-copy-files
  mosaic repos set app --pool 3`)
    .action(async (name: string, opts: EditOptions & { json?: boolean }, command: Command) => {
      const body = editBody(opts);
      if (Object.keys(body).length === 0) throw usageError('nothing to change: give at least one option (see `mosaic repos set --help`)');
      const { body: repo } = await clientFor(command).request<RepoView>('PATCH', repoPath(name), { body });
      if (opts.json) return printJson(repo);
      print(`updated ${repo.name}`);
      print(formatFields(repoFields(repo)));
    });

  repos.command('list')
    .alias('ls')
    .description('list registered repositories')
    .option('--json', 'print {repos: [...]} as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const result = await clientFor(command).get<{ repos: RepoView[] }>('/repos');
      if (opts.json) return printJson(result);
      if (result.repos.length === 0) return print('no repositories registered — add one with `mosaic repos add <name> <path>`');
      print(formatTable(
        ['NAME', 'BASE', 'PATH', 'SETUP', 'COPY FILES', 'POOL', 'URL'],
        result.repos.map((repo) => [repo.name, repo.baseBranch, repo.path, formatSetup(repo.setup), dash(repo.copyFiles.join(',')),
          repo.poolSize > 0 ? `${repo.pool?.ready ?? 0}/${repo.poolSize}` : '-', dash(repo.url ?? '')]),
      ));
    });

  repos.command('show')
    .description('show one repository')
    .argument('<name>', 'repository name', nameArg)
    .option('--json', 'print the repository as JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      const repo = await clientFor(command).get<RepoView>(repoPath(name));
      if (opts.json) return printJson(repo);
      print(formatFields(repoFields(repo)));
    });

  repos.command('remove')
    .alias('rm')
    .description('unregister a repository (its files and branches are untouched; its pooled worktrees are removed)')
    .argument('<name>', 'repository name', nameArg)
    .option('--json', 'print {removed: name} as JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      await clientFor(command).delete(repoPath(name));
      if (opts.json) return printJson({ removed: name });
      print(`removed ${name}`);
    });

  return repos;
}
