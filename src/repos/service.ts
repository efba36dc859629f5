import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { conflict, invalid, notFound } from '../core/errors.js';
import { assertName } from '../core/ids.js';
import { adoptRemoteBranch, assertBranchName, branchExists, checkRemoteUrl, inspectRepo, normalizeCopyEntry } from '../git/index.js';
import type { RepoRecord, Store } from '../store/types.js';
import type { RepoRemotes } from './remotes.js';
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
  /** Cluster: its spawns start again on another node when theirs is lost, unless a spawn says otherwise. */
  retryOnNodeLost?: boolean;
}

export interface RepoInput extends Omit<RepoEdit, 'setup'> {
  name: string;
  /** A local checkout; or `url` instead. */
  path?: string;
  /** Shared by this git URL (https, ssh or file://): each node keeps its own clone (issue 21). */
  url?: string;
  setup?: string[];
}

/** What the registry needs to clone a repository shared by URL (agents' RepoRemotes). */
export interface RepoCloner {
  cloneNew(name: string, url: string, path: string): Promise<string | null>;
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
    /** Repositories shared by URL: where this node keeps its clones ($MOSAIC_HOME) and how it makes one. */
    private readonly clones?: { home: string; cloner: RepoCloner },
  ) {}

  private async view(repo: RepoRecord): Promise<RepoView> {
    return {
      ...repo,
      url: repo.url ?? null,
      pool: this.pools?.status(repo) ?? { size: repo.poolSize, ready: 0, preparing: 0 },
      shareMode: (await this.pools?.shareMode(repo)) ?? (repo.shareDirs.length > 0 ? 'copy' : null),
    };
  }

  async add(input: RepoInput): Promise<RepoView> {
    const name = assertName('name', input.name);
    if (input.url !== undefined) return this.addByUrl(name, input);
    if (input.path === undefined) throw invalid('invalid_repo', 'give path (a local checkout) or url (a git URL shared by the nodes)', { field: 'path' });
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
      retryOnNodeLost: input.retryOnNodeLost ?? false,
      url: null,
      createdAt: Date.now(),
    };
    await this.store.repos.insert(record);
    this.pools?.configure(record);
    return this.view(record);
  }

  /**
   * A repository shared by URL (issue 21): cloned here now, under
   * `$MOSAIC_HOME/repos/<name>` (a clone left by an earlier registration of
   * the name is replaced), so a bad URL or an unreachable remote is an
   * answer now (400 `invalid_repo_url`, 502 `repo_fetch_failed`), not a
   * failed spawn later. Other nodes clone it on their first need.
   */
  private async addByUrl(name: string, input: RepoInput): Promise<RepoView> {
    if (input.path !== undefined) throw invalid('invalid_repo', 'give either path or url, not both', { field: 'path' });
    const { url } = checkRemoteUrl(input.url);
    if (!this.clones) throw invalid('invalid_repo_url', 'repositories by URL are not available here', { field: 'url' });
    for (const file of input.copyFiles ?? []) checkCopyFile(file);
    const poolSize = checkPoolSize(input.poolSize ?? 0);
    const shareDirs = checkShareDirs(input.shareDirs ?? []);
    const setupInputs = checkSetupInputs(input.setupInputs ?? null);
    if (input.baseBranch !== undefined) assertBranchName('baseBranch', input.baseBranch);
    if (await this.store.repos.get(name)) throw conflict('repo_exists', `a repository named '${name}' is already registered`);
    const path = join(this.clones.home, 'repos', name);
    const remoteDefault = await this.clones.cloner.cloneNew(name, url, path);
    const baseBranch = input.baseBranch ?? remoteDefault;
    if (!baseBranch) throw invalid('invalid_base_branch', 'the remote has no default branch (is it empty?); give baseBranch', { field: 'baseBranch' });
    if (!existsSync(path) || (await adoptRemoteBranch(path, baseBranch, true)) === null) {
      throw invalid('unknown_base_branch', `branch '${baseBranch}' does not exist on ${url}`, { field: 'baseBranch' });
    }
    await checkShareDirsIgnored(path, shareDirs);
    const record: RepoRecord = {
      name, path, url, baseBranch,
      setup: input.setup && input.setup.length > 0 ? [...input.setup] : null,
      copyFiles: [...(input.copyFiles ?? [])],
      poolSize, shareDirs, setupInputs,
      network: input.network ?? 'host',
      projectConfig: input.projectConfig ?? true,
      retryOnNodeLost: input.retryOnNodeLost ?? false,
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
      if (current.url && existsSync(current.path)) await adoptRemoteBranch(current.path, assertBranchName('baseBranch', edit.baseBranch), true);
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
    if (edit.retryOnNodeLost !== undefined) next.retryOnNodeLost = edit.retryOnNodeLost;
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
