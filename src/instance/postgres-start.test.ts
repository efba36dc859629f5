import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { finished, startCli, type CliResult } from '../test-support/cli.js';
import { createTestDatabase, type TestDatabase } from '../test-support/postgres.js';
import { waitFor } from '../test-support/wait.js';
import { instanceMigrations } from './migrations.js';

/**
 * Issue 20: three `mosaic up` started at once on one new database (each on
 * its own home): one runs, the two others exit 1 with one line saying the
 * database is in use (never its password, no stack trace), and the schema is
 * migrated once.
 */
describe('three servers started at once on one PostgreSQL database', () => {
  let db: TestDatabase | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'mosaic-three-'));
  const children: ReturnType<typeof startCli>[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one runs, the others exit 1 saying the database is in use, the schema migrated once', async () => {
    db = await createTestDatabase();
    const url = db.url;
    const runs = [0, 1, 2].map((i) => {
      const child = startCli(['up', '--port', '0'], { MOSAIC_HOME: join(dir, `home${i}`), MOSAIC_DATABASE_URL: url, MOSAIC_LOG_LEVEL: 'warn' });
      children.push(child);
      const state = { result: undefined as CliResult | undefined, stderr: '' };
      child.stderr?.on('data', (chunk: Buffer) => (state.stderr += chunk.toString()));
      void finished(child).then((r) => { state.result = r; });
      return state;
    });
    await waitFor(() => runs.filter((r) => r.result !== undefined).length === 2 && runs.some((r) => /is up at http/.test(r.stderr)),
      { timeoutMs: 90_000, what: 'one server up and two refused' });
    const refused = runs.filter((r) => r.result !== undefined);
    for (const r of refused) {
      expect(r.result!.code, r.stderr).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines.at(-1)).toMatch(/^mosaic: another Mosaic instance is running on the database at postgres:\/\/mosaic_test:\*\*\*@127\.0\.0\.1:\d+\/mosaic_test_\w+; stop it first/);
      expect(r.stderr).not.toContain('mosaic_test:mosaic_test@');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const running = runs.find((r) => r.result === undefined)!;
    expect(running.stderr).toMatch(/is up at http/);

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number; n: string }>('SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(instanceMigrations().map((m) => m.version));
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    } finally {
      await client.end();
    }
  }, 150_000);
});
