import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo, type TestInstance } from '../test-support/instance.js';

type ErrorBody = { error: { code: string; message: string } };

/** Issue 2, must-hold 7: bad input never creates anything and is a typed 4xx, never a 5xx. */
describe('bad input', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  const valid = { repo: 'app', taskId: 'ok', prompt: 'p', runtime: { kind: 'command', argv: ['true'] } };

  let env: InstanceWithRepo;
  beforeAll(async () => {
    env = await startInstanceWithRepo();
    ({ t, repo } = env);
  });
  afterAll(() => env.stop());

  const spawnCases: [string, Record<string, unknown>, number, string][] = [
    ['task id with ../', { taskId: '../x' }, 400, 'invalid_task_id'],
    ['task id as option', { taskId: '--upload-pack=x' }, 400, 'invalid_task_id'],
    ['empty task id', { taskId: '' }, 400, 'invalid_task_id'],
    ['200-character task id', { taskId: 'a'.repeat(200) }, 400, 'invalid_task_id'],
    ['task id with a slash', { taskId: 'a/../../b' }, 400, 'invalid_task_id'],
    ['task id with dots', { taskId: 'a..b' }, 400, 'invalid_task_id'],
    ['unknown repo', { repo: 'nope' }, 400, 'unknown_repo'],
    ['repo as path', { repo: '../../etc' }, 400, 'invalid_repo'],
    ['unknown runtime', { runtime: { kind: 'docker' } }, 400, 'invalid_runtime'],
    ['command runtime without argv', { runtime: { kind: 'command' } }, 400, 'invalid_runtime'],
    ['base branch as option', { baseBranch: '--upload-pack=x' }, 400, 'invalid_base_branch'],
    ['unknown base branch', { baseBranch: 'no-such-branch' }, 400, 'unknown_base_branch'],
    ['priority out of range', { priority: 11 }, 400, 'invalid_priority'],
    ['reserved env key', { env: { MOSAIC_AGENT_ID: 'x' } }, 400, 'invalid_env'],
    ['unknown field', { shell: 'rm -rf /' }, 400, 'unknown_field'],
    ['missing prompt', { prompt: undefined }, 400, 'missing_prompt'],
    ['unknown type', { type: 'admin' }, 400, 'invalid_type'],
  ];

  for (const [what, patch, status, code] of spawnCases) {
    it(`refuses a spawn with ${what}`, async () => {
      const body = JSON.parse(JSON.stringify({ ...valid, ...patch })) as Record<string, unknown>;
      const res = await t.api<ErrorBody>('POST', '/agents', body);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message.length).toBeGreaterThan(0);
    });
  }

  it('refuses malformed JSON and a 5 MiB body', async () => {
    const malformed = await t.api<ErrorBody>('POST', '/agents', '{"taskId": ', {});
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_json');
    const huge = await t.api<ErrorBody>('POST', '/agents', JSON.stringify({ ...valid, prompt: 'x'.repeat(5 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('body_too_large');
  });

  it('refuses bad ids in paths', async () => {
    // `..` itself is resolved away by URL parsing before it reaches the server: no route matches it.
    const dots = await t.api<ErrorBody>('GET', '/agents/..');
    expect(dots.status).toBe(404);
    for (const id of ['--upload-pack=x', 'a'.repeat(200), 'a..b', '.hidden']) {
      const res = await t.api<ErrorBody>('GET', `/agents/${encodeURIComponent(id)}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_id');
    }
  });

  it('refuses bad repositories', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '-x', path: repo.path }, 'invalid_name'],
      [{ name: 'rel', path: 'relative/path' }, 'invalid_path'],
      [{ name: 'notgit', path: dirname(repo.path) }, 'not_a_git_repo'],
      [{ name: 'app', path: repo.path }, 'repo_exists'],
      [{ name: 'dup', path: repo.path }, 'repo_path_registered'],
      [{ name: 'badbase', path: repo.path, baseBranch: '--upload-pack=x' }, 'invalid_base_branch'],
      [{ name: 'esc', path: repo.path, copyFiles: ['../secret'] }, 'invalid_copy_file'],
    ];
    for (const [body, code] of cases) {
      const res = await t.api<ErrorBody>('POST', '/repos', body);
      expect(res.status, code).toBeGreaterThanOrEqual(400);
      expect(res.status, code).toBeLessThan(500);
      expect(res.body.error.code).toBe(code);
    }
  });

  it('created nothing: no agents, no branches, no worktrees, nothing outside the repo', async () => {
    const agents = await t.api<{ agents: unknown[] }>('GET', '/agents');
    expect(agents.body.agents).toEqual([]);
    expect(git(repo.path, 'branch', '--list').split('\n').map((b) => b.replace(/^[* ]+/, ''))).toEqual(['main']);
    expect(existsSync(`${repo.path}_worktrees`)).toBe(false);
    expect(readdirSync(dirname(repo.path)).filter((name) => name.includes('upload-pack') || name === 'x')).toEqual([]);
    expect(existsSync(join(dirname(repo.path), 'x'))).toBe(false);
  });
});
