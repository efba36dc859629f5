import type { Selectable } from 'kysely';
import { isAbsolute, join } from 'node:path';
import { conflict } from '../../core/errors.js';
import type { RepoRecord, RepoStore } from '../types.js';
import { isUniqueViolation, type SqlContext } from './context.js';
import type { CoreTables, ReposTable } from './schema.js';

const jsonOrNull = (v: string[] | null | undefined): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** The path column of a repository shared by URL: its clone, relative to the home. */
export function clonePathColumn(name: string): string {
  return join('repos', name);
}

function rowToRepo(row: Selectable<ReposTable>, cloneHome: string | null): RepoRecord {
  const url = row.url ?? null;
  return {
    name: row.name,
    path: url !== null && cloneHome !== null && !isAbsolute(row.path) ? join(cloneHome, row.path) : row.path,
    ...(url === null ? {} : { url }),
    baseBranch: row.base_branch,
    setup: row.setup === null ? null : (JSON.parse(row.setup) as string[]),
    copyFiles: JSON.parse(row.copy_files) as string[],
    poolSize: row.pool_size,
    shareDirs: JSON.parse(row.share_dirs) as string[],
    setupInputs: row.setup_inputs === null ? null : (JSON.parse(row.setup_inputs) as string[]),
    network: row.network === 'none' ? 'none' : 'host',
    projectConfig: row.project_config !== 0,
    retryOnNodeLost: row.retry_on_node_lost === 1,
    createdAt: row.created_at,
  };
}

/** The editable fields of a registration, as columns. */
function editable(repo: RepoRecord): Omit<ReposTable, 'name' | 'path' | 'url' | 'created_at'> {
  return {
    base_branch: repo.baseBranch,
    setup: jsonOrNull(repo.setup),
    copy_files: JSON.stringify(repo.copyFiles ?? []),
    pool_size: repo.poolSize ?? 0,
    share_dirs: JSON.stringify(repo.shareDirs ?? []),
    setup_inputs: jsonOrNull(repo.setupInputs),
    network: repo.network ?? 'host',
    project_config: repo.projectConfig === false ? 0 : 1,
    retry_on_node_lost: repo.retryOnNodeLost === true ? 1 : 0,
  };
}

/** The `repos` table: registered repositories. */
export class SqlRepoStore implements RepoStore {
  /**
   * Where this node keeps the clones of repositories shared by URL (its
   * `$MOSAIC_HOME`): their `path` column holds the clone's path relative to
   * the home (`repos/<name>`), the same on every node, and is read as this
   * node's clone. Set once by the instance; null keeps the stored value.
   */
  cloneHome: string | null = null;

  constructor(private readonly ctx: SqlContext<CoreTables>) {}

  /** Throws 409 `repo_exists` (name taken) or `repo_path_registered` (path already registered). */
  async insert(repo: RepoRecord): Promise<void> {
    try {
      await this.ctx.db.insertInto('repos').values({ name: repo.name, path: repo.url ? clonePathColumn(repo.name) : repo.path, url: repo.url ?? null, created_at: repo.createdAt, ...editable(repo) }).execute();
    } catch (err) {
      if (isUniqueViolation(err, { primaryKey: true, pgConstraint: 'repos_pkey' })) {
        throw conflict('repo_exists', `a repository named ${repo.name} is already registered`, { name: repo.name });
      }
      if (isUniqueViolation(err, { sqliteColumn: 'repos.path', pgConstraint: 'repos_path_key' })) {
        throw conflict('repo_path_registered', `${repo.path} is already registered under another name`, { path: repo.path });
      }
      throw err;
    }
  }

  async get(name: string): Promise<RepoRecord | undefined> {
    const row = await this.ctx.db.selectFrom('repos').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : rowToRepo(row, this.cloneHome);
  }

  async list(): Promise<RepoRecord[]> {
    return (await this.ctx.db.selectFrom('repos').selectAll().orderBy('name').execute()).map((row) => rowToRepo(row, this.cloneHome));
  }

  async update(repo: RepoRecord): Promise<boolean> {
    const result = await this.ctx.db.updateTable('repos').set(editable(repo)).where('name', '=', repo.name).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async remove(name: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('repos').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
