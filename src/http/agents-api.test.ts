import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPidFile } from '../agents/supervisor/index.js';
import { git, groupAlive, spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';

type ErrorBody = { error: { code: string } };

describe('agents API', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  let plain: { path: string; cleanup(): void };

  beforeAll(async () => {
    // .env is deliberately not ignored: the snapshot must still leave the copied secret out.
    repo = await makeTempRepo();
    writeFileSync(join(repo.path, '.env'), 'SECRET_FOR_AGENT=from-main-checkout\n');
    t = await startTestInstance();
    const res = await t.api('POST', '/repos', {
      name: 'app',
      path: repo.path,
      setup: ['sh', '-c', 'echo setup-ran > setup-marker.txt; echo "setup sees $MOSAIC_AGENT_ID"'],
      copyFiles: ['.env', 'missing.txt'],
    });
    expect(res.status).toBe(201);
    plain = await makeTempRepo();
    expect((await t.api('POST', '/repos', { name: 'plain', path: plain.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
    plain.cleanup();
  });

  it('runs setup and copies untracked files into the worktree, and gives each agent its own port', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'cat .env; cat setup-marker.txt; echo "port=$PORT/$MOSAIC_AGENT_PORT"')).id);
    expect(agent.state).toBe('completed');
    const logs = await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`);
    expect(logs.body.lines).toContain('SECRET_FOR_AGENT=from-main-checkout');
    expect(logs.body.lines).toContain('setup-ran');
    expect(logs.body.lines).toContain(`setup sees ${agent.id}`);
    expect(logs.body.lines).toContain(`port=${agent.port}/${agent.port}`);
    // The copied .env is not committed by the snapshot; setup output is committed like any change.
    expect(git(repo.path, 'diff', '--name-only', `main...${agent.branch}`)).toBe('setup-marker.txt');
  });

  it('fails with setup_failed when setup fails, and keeps its output in the log', async () => {
    const other = await makeTempRepo();
    await t.api('POST', '/repos', { name: 'broken', path: other.path, setup: ['sh', '-c', 'echo cannot-install; exit 7'] });
    const agent = await waitForState(t, (await spawnCommand(t, 'echo never', { repo: 'broken' })).id);
    expect(agent.state).toBe('failed');
    expect(agent.error?.code).toBe('setup_failed');
    const logs = await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`);
    expect(logs.body.lines).toContain('cannot-install');
    expect(logs.body.lines).not.toContain('never');
    other.cleanup();
  });

  it('a kill during a long setup stops the setup at once and ends the agent killed', async () => {
    const slow = await makeTempRepo();
    await t.api('POST', '/repos', { name: 'slow', path: slow.path, setup: ['sh', '-c', 'echo installing > setup.txt; sleep 30'] });
    const spawned = await spawnCommand(t, 'echo never', { repo: 'slow', taskId: 'setup-kill' });
    const pidFile = join(t.home, 'agents', spawned.id, 'setup.pid');
    const deadline = Date.now() + 10_000;
    while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const setupGroup = readPidFile(pidFile) ?? 0; // first line: the pid; then its identity (issue 23)
    expect(groupAlive(setupGroup)).toBe(true);
    // The pid file is written when the (sandboxed) setup process starts, before its shell has run a line.
    const marker = join(spawned.worktreePath, 'setup.txt');
    while (!existsSync(marker) && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    expect((await t.api('POST', `/agents/${spawned.id}/kill`)).status).toBe(202);
    const agent = await waitForState(t, spawned.id, ['completed', 'failed', 'killed'], 5000);
    expect(agent.state).toBe('killed');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(groupAlive(setupGroup)).toBe(false);
    // What setup wrote is kept like any other work.
    expect(git(slow.path, 'show', `${agent.branch}:setup.txt`)).toBe('installing');
    expect((await t.api('DELETE', '/repos/slow')).status).toBe(204);
    slow.cleanup();
  });

  it('pages logs with a cursor and follows them until the agent ends', async () => {
    const agent = await waitForState(t, (await spawnCommand(t, 'for i in 1 2 3 4 5; do echo line-$i; done', { taskId: 'pages', repo: 'plain' })).id);
    const first = await t.api<{ lines: string[]; next: number; ended: boolean }>('GET', `/agents/${agent.id}/logs?limit=2`);
    expect(first.body.lines).toEqual(['line-1', 'line-2']);
    const rest = await t.api<{ lines: string[]; ended: boolean }>('GET', `/agents/${agent.id}/logs?after=${first.body.next}`);
    expect(rest.body.lines).toEqual(['line-3', 'line-4', 'line-5']);
    expect(rest.body.ended).toBe(true);
    const past = await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs?after=1000000000000`);
    expect({ status: past.status, lines: past.body.lines }).toEqual({ status: 200, lines: [] });
    for (const after of ['1e300', '99999999999999999999', '-1']) {
      const bad = await t.api<ErrorBody>('GET', `/agents/${agent.id}/logs?after=${after}`);
      expect({ status: bad.status, code: bad.body.error.code }).toEqual({ status: 400, code: 'invalid_after' });
    }

    const live = await spawnCommand(t, 'echo a; sleep 0.5; echo b', { taskId: 'follow', repo: 'plain' });
    const res = await fetch(`${t.url}/api/v1/agents/${live.id}/logs?follow=1`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text(); // the stream ends by itself when the agent ends
    expect(text).toContain('"a"');
    expect(text).toContain('"b"');
    expect(text).toContain('event: end');
  });

  it('discards a finished agent with its branch and logs, and refuses an active one', async () => {
    const running = await spawnCommand(t, 'sleep 30', { taskId: 'busy', repo: 'app' });
    await waitForState(t, running.id, ['running']);
    const refused = await t.api<ErrorBody>('DELETE', `/agents/${running.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('agent_active');
    const repoInUse = await t.api<ErrorBody>('DELETE', '/repos/app');
    expect(repoInUse.status).toBe(409);
    expect(repoInUse.body.error.code).toBe('repo_in_use');
    await t.api('POST', `/agents/${running.id}/kill`);
    const killed = await waitForState(t, running.id);

    // Its setup wrote a file, which the snapshot committed: work the base lacks, kept unless forced.
    const unmerged = await t.api<ErrorBody>('DELETE', `/agents/${killed.id}`);
    expect([unmerged.status, unmerged.body.error.code]).toEqual([409, 'unmerged_commits']);
    expect((await t.api('DELETE', `/agents/${killed.id}?force=true`)).status).toBe(204);
    expect((await t.api<ErrorBody>('GET', `/agents/${killed.id}`)).status).toBe(404);
    expect(git(repo.path, 'branch', '--list', killed.branch)).toBe('');
    expect((await t.api('DELETE', '/repos/plain')).status).toBe(204);
    expect(existsSync(join(t.home, 'agents', killed.id))).toBe(false);
  });

  it('serves the OpenAPI document and the docs page', async () => {
    const doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/api/v1/agents', '/api/v1/agents/{id}/logs', '/api/v1/repos', '/api/v1/events', '/api/v1/worktrees/reconcile', '/api/v1/health']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const docs = await fetch(`${t.url}/api/v1/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});
