import { isAbsolute } from 'node:path';
import { conflict, invalid, notFound } from '../core/errors.js';
import { assertName } from '../core/ids.js';
import { assertBranchName, branchExists, inspectRepo } from '../git/index.js';
import type { RepoRecord, Store } from '../store/types.js';

export interface RepoInput {
  name: string;
  path: string;
  baseBranch?: string;
  setup?: string[];
  copyFiles?: string[];
}

/** The registry of repositories agents may run in (DESIGN §3 "Repositories"). */
export class RepoService {
  constructor(
    private readonly store: Store,
    /** How many active agents use a repository; one in use cannot be removed. */
    private readonly activeAgents: (repo: string) => Promise<number>,
  ) {}

  async add(input: RepoInput): Promise<RepoRecord> {
    const name = assertName('name', input.name);
    if (!isAbsolute(input.path)) throw invalid('invalid_path', 'path must be absolute', { field: 'path' });
    const info = await inspectRepo(input.path);
    const baseBranch = input.baseBranch ?? info.currentBranch;
    if (!baseBranch) throw invalid('invalid_base_branch', 'the repository has a detached HEAD; give baseBranch', { field: 'baseBranch' });
    assertBranchName('baseBranch', baseBranch);
    if (!(await branchExists(info.path, baseBranch))) {
      throw invalid('unknown_base_branch', `branch '${baseBranch}' does not exist in ${info.path}`, { field: 'baseBranch' });
    }
    for (const file of input.copyFiles ?? []) checkCopyFile(file);
    if (await this.store.repos.get(name)) throw conflict('repo_exists', `a repository named '${name}' is already registered`);
    const taken = (await this.store.repos.list()).find((repo) => repo.path === info.path);
    if (taken) throw conflict('repo_path_registered', `${info.path} is already registered as '${taken.name}'`);
    const record: RepoRecord = {
      name,
      path: info.path,
      baseBranch,
      setup: input.setup && input.setup.length > 0 ? [...input.setup] : null,
      copyFiles: [...(input.copyFiles ?? [])],
      createdAt: Date.now(),
    };
    await this.store.repos.insert(record);
    return record;
  }

  list(): Promise<RepoRecord[]> {
    return this.store.repos.list();
  }

  async get(name: string): Promise<RepoRecord> {
    const repo = await this.store.repos.get(name);
    if (!repo) throw notFound('repo_not_found', `no repository named '${name}'`);
    return repo;
  }

  async remove(name: string): Promise<void> {
    await this.get(name);
    const active = await this.activeAgents(name);
    if (active > 0) throw conflict('repo_in_use', `${active} agents are still active in '${name}'`, { active });
    await this.store.repos.remove(name);
  }
}

/** copyFiles entries are relative paths inside the repository, checked again when copied. */
function checkCopyFile(file: string): void {
  const bad = file.length === 0 || isAbsolute(file) || file.split(/[\\/]/).includes('..') || file.includes('\0') || file.startsWith('-');
  if (bad) throw invalid('invalid_copy_file', `copyFiles entry '${file}' must be a relative path inside the repository`, { field: 'copyFiles' });
}
