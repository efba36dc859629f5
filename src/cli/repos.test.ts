import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoRecord } from '../store/types.js';
import { git, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { runCli } from '../test-support/cli.js';
import { makeTestRemote } from '../test-support/remote-repo.js';

/** `repos add --setup/--setup-arg` and `repos set` against a real instance (PATCH /api/v1/repos/:name). */

let t: TestInstance;
let repo: TempDir;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, env);
const json = <T>(text: string): T => JSON.parse(text) as T;
type ErrorBody = { error: { code: string; message: string } };

beforeAll(async () => {
  repo = await makeTempRepo();
  git(repo.path, 'branch', 'develop');
  writeFileSync(join(repo.path, '.env'), 'TOKEN=local\n');
  t = await startTestInstance();
  env = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url };
});

afterAll(async () => {
  await t?.stop();
  repo?.cleanup();
});

describe('repos add --setup', () => {
  it('runs a shell command line with sh -c in each new worktree', async () => {
    const added = await cli('repos', 'add', 'app', repo.path, '--setup', 'echo one > setup.txt && echo "two  spaced" >> setup.txt', '--json');
    expect(added.code, added.stderr).toBe(0);
    expect(json<RepoRecord>(added.stdout).setup).toEqual(['sh', '-c', 'echo one > setup.txt && echo "two  spaced" >> setup.txt']);
    const shown = await cli('repos', 'show', 'app');
    expect(shown.stdout).toMatch(/setup\s+echo one > setup.txt && echo "two {2}spaced" >> setup.txt/);

    const agent = await waitForState(t, (await spawnCommand(t, 'cat setup.txt')).id);
    expect(agent.state).toBe('completed');
    const logs = (await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
    expect(logs.slice(-2)).toEqual(['one', 'two  spaced']);
  });
});

describe('repos set (PATCH /repos/:name)', () => {
  it('edits setup (as an argv), copyFiles and the base branch for agents spawned afterwards', async () => {
    const set = await cli('repos', 'set', 'app', '--setup-arg', 'touch', '--setup-arg', 'made by setup.txt',
      '--copy-file', '.env', '--base-branch', 'develop', '--json');
    expect(set.code, set.stderr).toBe(0);
    expect(json<RepoRecord>(set.stdout)).toMatchObject({ name: 'app', baseBranch: 'develop', setup: ['touch', 'made by setup.txt'], copyFiles: ['.env'] });

    const agent = await waitForState(t, (await spawnCommand(t, 'ls; cat .env')).id);
    expect(agent).toMatchObject({ state: 'completed', baseBranch: 'develop' });
    const logs = (await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
    expect(logs).toContain('made by setup.txt');
    expect(logs).toContain('TOKEN=local');

    const human = await cli('repos', 'set', 'app', '--clear-setup', '--clear-copy-files', '--base-branch', 'main');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^updated app\n/);
    expect(human.stdout).toMatch(/setup\s+-\n/);
    expect((await t.api<RepoRecord>('GET', '/repos/app')).body).toMatchObject({ baseBranch: 'main', setup: null, copyFiles: [] });
  });

  it('refuses bad edits with typed errors and usage mistakes with exit 2', async () => {
    const unknown = await cli('repos', 'set', 'nope', '--setup', 'true', '--json');
    expect(unknown.code).toBe(1);
    expect(json<{ error: { code: string; status: number } }>(unknown.stderr).error).toMatchObject({ code: 'repo_not_found', status: 404 });
    const branch = await cli('repos', 'set', 'app', '--base-branch', 'no-such-branch');
    expect(branch.code).toBe(1);
    expect(branch.stderr).toContain('unknown_base_branch');

    expect((await cli('repos', 'set', 'app')).code).toBe(2);
    expect((await cli('repos', 'set', 'app', '--setup', 'x', '--setup-arg', 'y')).code).toBe(2);
    expect((await cli('repos', 'set', 'app', '--clear-setup', '--setup', 'x')).code).toBe(2);

    const cases: [unknown, string][] = [
      [{}, 'invalid_request'],
      [{ path: '/elsewhere' }, 'unknown_field'],
      [{ setup: 'npm ci' }, 'invalid_setup'],
      [{ setup: [''] }, 'invalid_setup'],
      [{ copyFiles: ['../outside'] }, 'invalid_copy_file'],
      [{ baseBranch: '-x' }, 'invalid_base_branch'],
    ];
    for (const [body, code] of cases) {
      const res = await t.api<ErrorBody>('PATCH', '/repos/app', body);
      expect([res.status, res.body.error?.code], JSON.stringify(body)).toEqual([400, code]);
    }
    // Nothing above changed the record.
    expect((await t.api<RepoRecord>('GET', '/repos/app')).body).toMatchObject({ baseBranch: 'main', setup: null, copyFiles: [] });
  });
});

describe('repos add --git-url (issue 21)', () => {
  it('registers a repository shared by a git URL; list and show name the URL; a path with --git-url is a usage error', async () => {
    const remote = makeTestRemote();
    try {
      const added = await cli('repos', 'add', 'shared', '--git-url', remote.url);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toMatch(new RegExp(`url\\s+${remote.url}`));
      const listed = await cli('repos', 'list');
      expect(listed.stdout.split('\n')[0]).toMatch(/URL$/);
      expect(listed.stdout).toContain(remote.url);
      expect(json<{ repos: Array<{ name: string; url: string | null }> }>((await cli('repos', 'list', '--json')).stdout).repos
        .map((r) => [r.name, r.url])).toEqual([['app', null], ['shared', remote.url]]);
      const both = await cli('repos', 'add', 'other', repo.path, '--git-url', remote.url);
      expect(both.code).toBe(2);
      const bad = await cli('repos', 'add', 'other', '--git-url', 'ext::sh -c id');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('invalid_repo_url');
    } finally {
      remote.cleanup();
    }
  });
});
