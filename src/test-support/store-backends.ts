import { join } from 'node:path';
import { openPostgresStore, openSqliteStore, type Migration, type SqlStore } from '../store/index.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { tempDir } from './store-records.js';

export interface StoreOpenOptions {
  now?: () => number;
  migrations?: readonly Migration[];
}

/**
 * One backend for a parametrized store suite: `setup` once per file (a
 * PostgreSQL database of its own), `fresh` before each test (an empty
 * store), `open` for another handle on the same store (another process
 * would get the same), `target` to give to a child process.
 */
export interface StoreBackend {
  name: 'sqlite' | 'postgres';
  setup(): Promise<void>;
  teardown(): Promise<void>;
  fresh(): Promise<void>;
  open(options?: StoreOpenOptions): Promise<SqlStore>;
  target(): string;
}

function sqliteBackend(): StoreBackend {
  let current: { dir: string; cleanup: () => void } | undefined;
  const cleanups: Array<() => void> = [];
  return {
    name: 'sqlite',
    async setup() {},
    async teardown() {
      cleanups.splice(0).forEach((c) => c());
    },
    async fresh() {
      current = tempDir();
      cleanups.push(current.cleanup);
    },
    async open(options = {}) {
      return openSqliteStore(this.target(), options);
    },
    target() {
      if (!current) throw new Error('fresh() first');
      return join(current.dir, 'mosaic.db');
    },
  };
}

function postgresBackend(): StoreBackend {
  let db: TestDatabase | undefined;
  return {
    name: 'postgres',
    async setup() {
      db = await createTestDatabase();
    },
    async teardown() {
      await db?.drop();
    },
    async fresh() {
      await db?.reset();
    },
    async open(options = {}) {
      return openPostgresStore(this.target(), { ...options, poolSize: 4 });
    },
    target() {
      if (!db) throw new Error('setup() first');
      return db.url;
    },
  };
}

/** Both backends, for `describe.each(storeBackends())`. */
export function storeBackends(): StoreBackend[] {
  return [sqliteBackend(), postgresBackend()];
}
