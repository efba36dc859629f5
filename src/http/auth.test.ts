import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../core/logger.js';
import { startInstance, type Instance } from '../instance/index.js';
import { waitForState } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';

/** Issue 2, must-hold 8: admin endpoints need the token; the token never reaches logs or agents. */
describe('admin auth', () => {
  let home: string;
  let instance: Instance;
  let repo: { path: string; cleanup(): void };
  const logLines: string[] = [];

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mosaic-auth-'));
    repo = await makeTempRepo();
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(chunk.toString()); done(); } });
    // Log everything, at the most verbose level, to the captured sink.
    const logger = pino({ ...loggerOptions('trace') }, sink);
    instance = await startInstance({ env: {}, logger, config: { home, port: 0, logLevel: 'trace', pollMs: 50 } });
  });
  afterAll(async () => {
    await instance.close();
    rmSync(home, { recursive: true, force: true });
    repo.cleanup();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${instance.url}/api/v1${path}`, init);

  it('answers 401 without a token or with a wrong one, on every admin route', async () => {
    const routes: [string, string][] = [
      ['GET', '/agents'], ['POST', '/agents'], ['GET', '/agents/abc'], ['POST', '/agents/abc/kill'],
      ['POST', '/agents/kill-all'], ['DELETE', '/agents/abc'], ['GET', '/agents/abc/logs'], ['GET', '/agents/abc/diff'],
      ['GET', '/repos'], ['POST', '/repos'], ['DELETE', '/repos/x'], ['GET', '/events'], ['GET', '/worktrees'], ['POST', '/worktrees/reconcile'],
    ];
    for (const [method, path] of routes) {
      const none = await call(path, { method });
      expect(none.status, `${method} ${path}`).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('auth_required');
      const wrong = await call(path, { method, headers: { authorization: `Bearer ${instance.adminToken}x` } });
      expect(wrong.status, `${method} ${path}`).toBe(401);
      expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('auth_invalid');
    }
    expect((await call('/health')).status).toBe(200);
  });

  it('keeps the token out of the logs and out of the agent environment', async () => {
    const auth = { authorization: `Bearer ${instance.adminToken}`, 'content-type': 'application/json' };
    expect((await call('/repos', { method: 'POST', headers: auth, body: JSON.stringify({ name: 'app', path: repo.path }) })).status).toBe(201);
    const spawn = await call('/agents', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ repo: 'app', taskId: 'env', prompt: 'p', runtime: { kind: 'command', argv: ['env'] } }),
    });
    const agent = (await spawn.json()) as { id: string };
    const ended = await waitForState(Object.assign(instance, {
      home,
      api: async <T>(method: string, path: string) => {
        const res = await call(path, { method, headers: auth });
        return { status: res.status, body: (await res.json()) as T };
      },
      stop: async () => {},
    }), agent.id);
    expect(ended.state).toBe('completed');

    const output = readFileSync(join(home, 'agents', agent.id, 'output.log'), 'utf8');
    expect(output).toContain(`MOSAIC_AGENT_ID=${agent.id}`);
    expect(output).not.toContain(instance.adminToken);
    expect(output).not.toMatch(/MOSAIC_HOME|admin-token/);

    // Whatever logs a token-bearing object, the redaction paths censor it.
    instance.app.log.info({ req: { headers: { authorization: `Bearer ${instance.adminToken}` } }, token: instance.adminToken }, 'redaction probe');
    const logs = logLines.join('');
    expect(logs).toContain('"url":"/api/v1/agents"'); // requests were logged, at trace level
    expect(logs).toContain('redaction probe');
    expect(logs).toContain('[redacted]');
    expect(logs).not.toContain(instance.adminToken);
  });
});
