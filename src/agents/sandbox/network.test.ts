import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCommand, waitForState } from '../../test-support/agents.js';
import { makeTempRepo } from '../../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { attackOutcome, attackScript } from '../../test-support/sandbox.js';

/** Issue 6: a repository with `network: "none"` runs its agents without network (loopback to the server included). */
describe('sandbox: network none', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  beforeAll(async () => {
    repo = await makeTempRepo();
    t = await startTestInstance({ killGraceMs: 300 });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path, network: 'none' })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  it('cannot reach the server over loopback, while a host-network repository can', async () => {
    const port = new URL(t.url).port;
    const connect = `node -e "require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"`;
    const agent = await waitForState(t, (await spawnCommand(t, attackScript({ reachServer: connect }))).id);
    expect(agent.state).toBe('completed');
    expect(attackOutcome((await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines)).toEqual({ leaked: [], blocked: ['reachServer'] });

    expect((await t.api('PATCH', '/repos/app', { network: 'host' })).status).toBe(200);
    const open = await waitForState(t, (await spawnCommand(t, attackScript({ reachServer: connect }), { taskId: 'host' })).id);
    expect(attackOutcome((await t.api<{ lines: string[] }>('GET', `/agents/${open.id}/logs`)).body.lines).leaked).toEqual(['reachServer']);
  });
});
