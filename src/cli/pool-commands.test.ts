import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { waitFor } from '../test-support/wait.js';
import { runCli } from '../test-support/cli.js';

/** Issue 10: `repos add --pool/--share-dir`, `repos set --pool`, pool health in status and doctor, bad input refused. */

let t: TestInstance;
let repo: TempDir;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, env);
const json = <T>(text: string): T => JSON.parse(text) as T;
type ErrorBody = { error: { code: string } };
type RepoView = { poolSize: number; shareDirs: string[]; setupInputs: string[] | null; pool: { ready: number; preparing: number } };

const pooledCount = (): number => execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: repo.path, encoding: 'utf8' })
  .split('\n').filter((line) => /^worktree .*\/pool-[a-z0-9]+$/.test(line)).length;

beforeAll(async () => {
  repo = await makeTempRepo();
  t = await startTestInstance();
  env = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url };
});

afterAll(async () => {
  await t?.stop();
  repo?.cleanup();
});

describe('warm pool settings from the CLI', () => {
  it('registers a pool, shows its health, resizes it and removes it with the repository', async () => {
    const added = await cli('repos', 'add', 'app', repo.path, '--setup', 'echo prepared', '--pool', '2', '--share-dir', 'node_modules', '--json');
    expect(added.code, added.stderr).toBe(0);
    expect(json<RepoView>(added.stdout)).toMatchObject({ poolSize: 2, shareDirs: ['node_modules'], setupInputs: null });
    await waitFor(async () => (await t.api<RepoView>('GET', '/repos/app')).body.pool.ready === 2, { timeoutMs: 30_000, what: 'two ready' });

    const [shown, status, doctor] = await Promise.all([cli('repos', 'show', 'app'), cli('status', '--json'), cli('doctor', '--json')]);
    expect(shown.stdout).toMatch(/pool\s+2 ready of 2/);
    expect(shown.stdout).toMatch(/share dirs\s+node_modules/);
    expect(shown.stdout).toMatch(/share mode\s+(overlay|reflink) \(/); // no full copy on this machine (bubblewrap, overlay or reflinks)
    expect(json<{ pools: unknown[] }>(status.stdout).pools).toEqual([{ repo: 'app', size: 2, ready: 2, preparing: 0 }]);
    expect(json<{ checks: { name: string; status: string; detail: string }[] }>(doctor.stdout).checks)
      .toContainEqual({ name: 'pools', status: 'ok', detail: 'app 2/2 ready' });
    expect(json<{ checks: { name: string; status: string; detail: string }[] }>(doctor.stdout).checks)
      .toContainEqual({ name: 'share dirs', status: 'ok', detail: expect.stringMatching(/^app: node_modules as (a read-only shared snapshot|reflink clones)/) });

    const set = await cli('repos', 'set', 'app', '--pool', '1', '--setup-input', 'deps.lock', '--json');
    expect(set.code, set.stderr).toBe(0);
    expect(json<RepoView>(set.stdout)).toMatchObject({ poolSize: 1, setupInputs: ['deps.lock'] });
    await waitFor(() => pooledCount() === 1, { timeoutMs: 30_000, what: 'the pool to shrink to one' });

    expect((await cli('repos', 'remove', 'app')).code).toBe(0);
    expect(pooledCount()).toBe(0);
  }, 90_000);

  it('refuses bad pool settings with typed errors', async () => {
    expect((await cli('repos', 'add', 'bad', repo.path, '--pool', 'lots')).code).toBe(2);
    const cases: [Record<string, unknown>, string][] = [
      [{ poolSize: 33 }, 'invalid_body'],
      [{ poolSize: 1.5 }, 'invalid_body'],
      [{ shareDirs: ['../outside'] }, 'invalid_share_dir'],
      [{ shareDirs: ['.git/objects'] }, 'invalid_share_dir'],
      [{ shareDirs: ['/abs'] }, 'invalid_share_dir'],
      [{ shareDirs: ['node_modules', 'node_modules/x'] }, 'invalid_share_dir'],
      [{ shareDirs: ['src'] }, 'share_dir_not_ignored'], // git would commit it: an agent's changes there are its work
      [{ setupInputs: [':(top)x'] }, 'invalid_setup_input'],
      [{ setupInputs: ['../x.lock'] }, 'invalid_setup_input'],
    ];
    for (const [body, code] of cases) {
      const res = await t.api<ErrorBody>('POST', '/repos', { name: 'bad', path: repo.path, ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      if (code !== 'invalid_body') expect(res.body.error.code, JSON.stringify(body)).toBe(code);
    }
    expect((await t.api('GET', '/repos/bad')).status).toBe(404);
  });
});
