import { resolve } from 'node:path';
import { Command } from 'commander';
import type { RepoRecord } from '../../store/types.js';
import { usageError } from '../client.js';
import { clientFor } from '../context.js';
import { collect } from '../options.js';
import { dash, formatFields, formatTable, print, printJson } from '../output.js';

interface AddOptions {
  baseBranch?: string;
  setup?: string;
  setupArg?: string[];
  copyFile?: string[];
  json?: boolean;
}

/** `--setup "npm ci"` split on whitespace, or `--setup-arg` repeated for arguments that contain spaces. */
export function setupArgv(opts: { setup?: string; setupArg?: string[] }): string[] | undefined {
  if (opts.setup !== undefined && opts.setupArg !== undefined) throw usageError('use either --setup or --setup-arg, not both');
  if (opts.setup !== undefined) {
    const argv = opts.setup.trim().split(/\s+/).filter(Boolean);
    if (argv.length === 0) throw usageError('--setup must name a command');
    return argv;
  }
  return opts.setupArg;
}

function repoFields(repo: RepoRecord): [string, string][] {
  return [
    ['name', repo.name],
    ['path', repo.path],
    ['base branch', repo.baseBranch],
    ['setup', repo.setup ? repo.setup.join(' ') : '-'],
    ['copy files', repo.copyFiles.length > 0 ? repo.copyFiles.join(', ') : '-'],
  ];
}

export function reposCommand(): Command {
  const repos = new Command('repos').description('register the git repositories agents may run in');

  repos.command('add')
    .description('register a repository (the path is resolved from the current directory)')
    .argument('<name>', 'name agents refer to it by')
    .argument('<path>', 'path of the main checkout')
    .option('--base-branch <branch>', 'branch worktrees start from (default: the current branch)')
    .option('--setup <command>', 'command run in each new worktree, split on whitespace (e.g. "npm ci")')
    .option('--setup-arg <arg>', 'one argument of the setup command (repeat for each)', collect)
    .option('--copy-file <file>', 'untracked file copied from the main checkout into each worktree (repeatable)', collect)
    .option('--json', 'print the repository as JSON')
    .action(async (name: string, path: string, opts: AddOptions, command: Command) => {
      const setup = setupArgv(opts);
      const body = {
        name,
        path: resolve(path),
        ...(opts.baseBranch ? { baseBranch: opts.baseBranch } : {}),
        ...(setup ? { setup } : {}),
        ...(opts.copyFile ? { copyFiles: opts.copyFile } : {}),
      };
      const repo = await clientFor(command).post<RepoRecord>('/repos', body);
      if (opts.json) return printJson(repo);
      print(`registered ${repo.name}`);
      print(formatFields(repoFields(repo)));
    });

  repos.command('list')
    .alias('ls')
    .description('list registered repositories')
    .option('--json', 'print {repos: [...]} as JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const result = await clientFor(command).get<{ repos: RepoRecord[] }>('/repos');
      if (opts.json) return printJson(result);
      if (result.repos.length === 0) return print('no repositories registered — add one with `mosaic repos add <name> <path>`');
      print(formatTable(
        ['NAME', 'BASE', 'PATH', 'SETUP', 'COPY FILES'],
        result.repos.map((repo) => [repo.name, repo.baseBranch, repo.path, dash(repo.setup?.join(' ')), dash(repo.copyFiles.join(','))]),
      ));
    });

  repos.command('show')
    .description('show one repository')
    .argument('<name>')
    .option('--json', 'print the repository as JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      const repo = await clientFor(command).get<RepoRecord>(`/repos/${encodeURIComponent(name)}`);
      if (opts.json) return printJson(repo);
      print(formatFields(repoFields(repo)));
    });

  repos.command('remove')
    .alias('rm')
    .description('unregister a repository (its files and branches are untouched)')
    .argument('<name>')
    .option('--json', 'print {removed: name} as JSON')
    .action(async (name: string, opts: { json?: boolean }, command: Command) => {
      await clientFor(command).delete(`/repos/${encodeURIComponent(name)}`);
      if (opts.json) return printJson({ removed: name });
      print(`removed ${name}`);
    });

  return repos;
}
