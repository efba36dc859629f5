import { conflict } from '../../core/errors.js';
import type { RepoRecord, RepoStore } from '../types.js';
import type { SqliteDatabase } from './database.js';

interface RepoRow {
  name: string;
  path: string;
  base_branch: string;
  setup: string | null;
  copy_files: string;
  pool_size: number;
  share_dirs: string;
  setup_inputs: string | null;
  network: string;
  project_config: number;
  created_at: number;
}

function rowToRepo(row: RepoRow): RepoRecord {
  return {
    name: row.name,
    path: row.path,
    baseBranch: row.base_branch,
    setup: row.setup === null ? null : (JSON.parse(row.setup) as string[]),
    copyFiles: JSON.parse(row.copy_files) as string[],
    poolSize: row.pool_size,
    shareDirs: JSON.parse(row.share_dirs) as string[],
    setupInputs: row.setup_inputs === null ? null : (JSON.parse(row.setup_inputs) as string[]),
    network: row.network === 'none' ? 'none' : 'host',
    projectConfig: row.project_config !== 0,
    createdAt: row.created_at,
  };
}

/** The `repos` table: registered repositories. */
export class SqliteRepoStore implements RepoStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly listStmt;
  private readonly updateStmt;
  private readonly removeStmt;

  constructor(db: SqliteDatabase) {
    this.insertStmt = db.prepare<[string, string, string, string | null, string, number, string, string | null, string, number, number]>(
      `INSERT INTO repos (name, path, base_branch, setup, copy_files, pool_size, share_dirs, setup_inputs, network, project_config, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.getStmt = db.prepare<[string], RepoRow>('SELECT * FROM repos WHERE name = ?');
    this.listStmt = db.prepare<[], RepoRow>('SELECT * FROM repos ORDER BY name');
    this.updateStmt = db.prepare<[string, string | null, string, number, string, string | null, string, number, string]>(
      'UPDATE repos SET base_branch = ?, setup = ?, copy_files = ?, pool_size = ?, share_dirs = ?, setup_inputs = ?, network = ?, project_config = ? WHERE name = ?');
    this.removeStmt = db.prepare<[string]>('DELETE FROM repos WHERE name = ?');
  }

  /** Throws 409 `repo_exists` (name taken) or `repo_path_registered` (path already registered). */
  async insert(repo: RepoRecord): Promise<void> {
    try {
      this.insertStmt.run(repo.name, repo.path, repo.baseBranch,
        repo.setup === null || repo.setup === undefined ? null : JSON.stringify(repo.setup),
        JSON.stringify(repo.copyFiles ?? []), repo.poolSize ?? 0, JSON.stringify(repo.shareDirs ?? []),
        repo.setupInputs === null || repo.setupInputs === undefined ? null : JSON.stringify(repo.setupInputs), repo.network ?? 'host', repo.projectConfig === false ? 0 : 1, repo.createdAt);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw conflict('repo_exists', `a repository named ${repo.name} is already registered`, { name: repo.name });
      }
      if (code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw conflict('repo_path_registered', `${repo.path} is already registered under another name`, { path: repo.path });
      }
      throw err;
    }
  }

  async get(name: string): Promise<RepoRecord | undefined> {
    const row = this.getStmt.get(name);
    return row === undefined ? undefined : rowToRepo(row);
  }

  async list(): Promise<RepoRecord[]> {
    return this.listStmt.all().map(rowToRepo);
  }

  async update(repo: RepoRecord): Promise<boolean> {
    const setup = repo.setup === null || repo.setup === undefined ? null : JSON.stringify(repo.setup);
    const setupInputs = repo.setupInputs === null || repo.setupInputs === undefined ? null : JSON.stringify(repo.setupInputs);
    return this.updateStmt.run(repo.baseBranch, setup, JSON.stringify(repo.copyFiles ?? []), repo.poolSize ?? 0,
      JSON.stringify(repo.shareDirs ?? []), setupInputs, repo.network ?? 'host', repo.projectConfig === false ? 0 : 1, repo.name).changes > 0;
  }

  async remove(name: string): Promise<boolean> {
    return this.removeStmt.run(name).changes > 0;
  }
}
