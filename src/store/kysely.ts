import { createRequire } from 'node:module';
import type * as KyselyModule from 'kysely';

/**
 * Kysely's values, loaded through its CommonJS build. Its ESM build is 280
 * files that Node's ESM loader opens all at once: at start-up the server held
 * up to ~250 descriptors together (strace of `mosaic up`), so under
 * `ulimit -n 256` it failed to start about one time in four (EMFILE while
 * loading modules). require() reads one file at a time. Every value import
 * of Kysely goes through here, so no object from one build meets the other's
 * classes; type-only imports of 'kysely' are erased and stay as they are.
 */
const kysely = createRequire(import.meta.url)('kysely') as typeof KyselyModule;

export const { CompiledQuery, Kysely, PostgresDialect, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, sql } = kysely;
export type CompiledQuery<O = unknown> = KyselyModule.CompiledQuery<O>;
export type Kysely<DB> = KyselyModule.Kysely<DB>;
export type { Selectable } from 'kysely';
