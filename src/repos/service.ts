import { isAbsolute } from 'node:path';
import { conflict, invalid, notFound } from '../core/errors.js';
import { assertName } from '../core/ids.js';
import { assertBranchName, branchExists, inspectRepo, normalizeCopyEntry } from '../git/index.js';
import type { RepoRecord, Store } from '../store/types.js';
import { checkPoolSize, checkSetupInputs, checkShareDirs, checkShareDirsIgnored } from './pool-fields.js';

/**
 * The fields of a repository that can be edited after registration (`PATCH
 * /repos/:name`). Each is checked by its own entry in `checkEdit`, so adding
 * a field (pool size, shared dirs, network) is one property here, one check
 * there and one property in the HTTP schema.
 */
export interface RepoEdit {
  baseBranch?: string;
  /** argv; null (or []) removes the setup. */
  setup?: string[] | null;
  copyFiles?: string[];
  /** Worktrees kept ready (0..32); lowering it removes the extra ones. */
  poolSize?: number;
  shareDirs?: string[];
  /** null restores the default lockfiles. */
  setupInputs?: string[] | null;
  /** `none`: its (sandboxed) agents run without network. */
  network?: 'host' | 'none';
  /** false: local agents' runtimes load none of the configuration the repository carries. */
  projectConfig?: boolean;
}

export interface RepoInput extends Omit<RepoEdit, 'setup'> {
  name: string;
  path: string;
  setup?: string[];
}

/** What the registry needs of the warm pools (DESIGN §3 "Warm pools"). */
export interface RepoPools {
  status(repo: RepoRecord): PoolHealth;
  /** The repository was registered or edited: fill, trim or rebuild its pool. */
  configure(repo: RepoRecord): void;
  /** Removes its pooled worktrees (before it is unregistered). */
  removeRepo(repo: RepoRecord): Promise<void>;
  /** How its shareDirs reach a worktree on this machine (null without shareDirs). */
  shareMode(repo: RepoRecord): Promise<ShareMode | null>;
}

/** `reflink`: copy-on-write clones; `overlay`: read-only snapshot + private layer in the sandbox; `copy`: full copies. */
export type ShareMode = 'reflink' | 'overlay' | 'copy';

export interface PoolHealth {
  size: number;
  ready: number;
  preparing: number;
  error?: string;
}

/** A repository as the API shows it: the record plus the state of its pool. */
export type RepoView = RepoRecord & { pool: PoolHealth; shareMode: ShareMode | null };

/** The registry of repositories agents may run in (DESIGN §3 "Repositories"). */
export class RepoService {
  constructor(
    private readonly store: Store,
    /** How many active agents use a repository; one in use cannot be removed. */
    private readonly activeAgents: (repo: string) => Promise<number>,
    private readonly pools?: RepoPools,
  ) {}

  private async view(repo: RepoRecord): Promise<RepoView> {
    return {
      ...repo,
      pool: this.pools?.status(repo) ?? { size: repo.poolSize, ready: 0, preparing: 0 },
      shareMode: (await this.pools?.shareMode(repo)) ?? (repo.shareDirs.length > 0 ? 'copy' : null),
    };
  }

  async add(input: RepoInput): Promise<RepoView> {
    const name = assertName('name', input.name);
    if (!isAbsolute(input.path)) throw invalid('invalid_path', 'path must be absolute', { field: 'path' });
    const info = await inspectRepo(input.path);
    const baseBranch = input.baseBranch ?? info.currentBranch;
    if (!baseBranch) throw invalid('invalid_base_branch', 'the repository has a detached HEAD; give baseBranch', { field: 'baseBranch' });
    await checkBaseBranch(info.path, baseBranch);
    for (const file of input.copyFiles ?? []) checkCopyFile(file);
    const poolSize = checkPoolSize(input.poolSize ?? 0);
    const shareDirs = checkShareDirs(input.shareDirs ?? []);
    await checkShareDirsIgnored(info.path, shareDirs);
    const setupInputs = checkSetupInputs(input.setupInputs ?? null);
    if (await this.store.repos.get(name)) throw conflict('repo_exists', `a repository named '${name}' is already registered`);
    const taken = (await this.store.repos.list()).find((repo) => repo.path === info.path);
    if (taken) throw conflict('repo_path_registered', `${info.path} is already registered as '${taken.name}'`);
    const record: RepoRecord = {
      name,
      path: info.path,
      baseBranch,
      setup: input.setup && input.setup.length > 0 ? [...input.setup] : null,
      copyFiles: [...(input.copyFiles ?? [])],
      poolSize,
      shareDirs,
      setupInputs,
      network: input.network ?? 'host',
      projectConfig: input.projectConfig ?? true,
      createdAt: Date.now(),
    };
    await this.store.repos.insert(record);
    this.pools?.configure(record);
    return this.view(record);
  }

  async list(): Promise<RepoView[]> {
    return Promise.all((await this.store.repos.list()).map((repo) => this.view(repo)));
  }

  async get(name: string): Promise<RepoView> {
    return this.view(await this.record(name));
  }

  private async record(name: string): Promise<RepoRecord> {
    const repo = await this.store.repos.get(name);
    if (!repo) throw notFound('repo_not_found', `no repository named '${name}'`);
    return repo;
  }

  /**
   * Edits a registered repository; fields left out keep their value. The
   * change applies to agents spawned afterwards (running ones keep theirs).
   */
  async update(name: string, edit: RepoEdit): Promise<RepoView> {
    const current = await this.record(name);
    const next: RepoRecord = { ...current };
    if (edit.baseBranch !== undefined) {
      await checkBaseBranch(current.path, edit.baseBranch);
      next.baseBranch = edit.baseBranch;
    }
    if (edit.setup !== undefined) next.setup = edit.setup && edit.setup.length > 0 ? [...edit.setup] : null;
    if (edit.copyFiles !== undefined) {
      for (const file of edit.copyFiles) checkCopyFile(file);
      next.copyFiles = [...edit.copyFiles];
    }
    if (edit.poolSize !== undefined) next.poolSize = checkPoolSize(edit.poolSize);
    if (edit.shareDirs !== undefined) {
      next.shareDirs = checkShareDirs(edit.shareDirs);
      await checkShareDirsIgnored(current.path, next.shareDirs);
    }
    if (edit.setupInputs !== undefined) next.setupInputs = checkSetupInputs(edit.setupInputs);
    if (edit.network !== undefined) next.network = edit.network;
    if (edit.projectConfig !== undefined) next.projectConfig = edit.projectConfig;
    if (!(await this.store.repos.update(next))) throw notFound('repo_not_found', `no repository named '${name}'`);
    this.pools?.configure(next);
    return this.view(next);
  }

  async remove(name: string): Promise<void> {
    const repo = await this.record(name);
    const active = await this.activeAgents(name);
    if (active > 0) throw conflict('repo_in_use', `${active} agents are still active in '${name}'`, { active });
    await this.pools?.removeRepo(repo);
    await this.store.repos.remove(name);
  }
}

async function checkBaseBranch(path: string, baseBranch: string): Promise<void> {
  assertBranchName('baseBranch', baseBranch);
  if (!(await branchExists(path, baseBranch))) {
    throw invalid('unknown_base_branch', `branch '${baseBranch}' does not exist in ${path}`, { field: 'baseBranch' });
  }
}

/**
 * copyFiles entries are relative paths inside the repository and never under
 * `.git`: refused at registration with the rules the copy applies again.
 */
function checkCopyFile(file: string): void {
  if (file.startsWith('-')) throw invalid('invalid_copy_file', `copyFiles entry '${file}' must not start with '-'`, { field: 'copyFiles' });
  normalizeCopyEntry(file);
}
