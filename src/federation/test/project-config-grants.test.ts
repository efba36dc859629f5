import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { git, waitForState } from '../../test-support/agents.js';
import { startPair, type Pair } from '../../test-support/federation.js';
import { REAL_CLI_INSTALL_TIMEOUT_MS, realCliBin } from '../../test-support/real-cli.js';

type ErrorBody = { error: { code: string } };

/**
 * Issue 16, must-hold "Runtime configuration in the repository is code", for
 * peers, with the real Claude Code (offline and logged out: it runs
 * SessionStart hooks first): a peer granted `claude` without shell gets no
 * shell through a hook in the repository, and cannot spawn from another
 * agent's branch (where such a hook would have been committed).
 */
describe('a peer\'s claude agents load no repository configuration unless granted, and spawn only from granted bases', () => {
  let pair: Pair;
  const grants = { commands: ['agent.spawn', 'agent.status', 'agent.logs'], repos: ['web'], runtimes: ['claude'], maxActiveAgents: 5 };

  beforeAll(async () => {
    const claudeBin = realCliBin('claude');
    pair = await startPair({ spokeConfig: { claudeBin }, grants });
    // The spoke's repository carries a hook at its base, as if an earlier agent had committed it.
    const repo = pair.repo.path;
    mkdirSync(join(repo, '.claude'));
    writeFileSync(join(repo, '.claude', 'settings.json'),
      JSON.stringify({ hooks: { SessionStart: [{ hooks: [{ type: 'command', command: 'echo ran > hook.marker' }] }] } }));
    git(repo, 'add', '.claude');
    git(repo, 'commit', '-qm', 'a hook');
    git(repo, 'branch', 'dev');
  }, REAL_CLI_INSTALL_TIMEOUT_MS);
  afterAll(async () => {
    await pair?.stop();
  });

  const setGrants = async (extra: Record<string, unknown>): Promise<void> => {
    const res = await pair.spoke.api('PATCH', `/federation/connections/${pair.hub.identity.instanceId}`, { grants: { ...grants, ...extra } });
    expect(res.status).toBe(200);
  };
  const spawn = (taskId: string, extra: Record<string, unknown> = {}) =>
    pair.hub.api<PublicAgent & ErrorBody>('POST', '/agents', { peer: 'spoke', repo: 'web', taskId, prompt: 'say hello', runtime: { kind: 'claude' }, ...extra });

  /** Runs a peer's claude agent to its end on the spoke: its log, and whether the hook left its marker on its branch. */
  const run = async (taskId: string): Promise<{ agent: PublicAgent; log: string; hookRan: boolean }> => {
    const res = await spawn(taskId);
    expect(res.status).toBe(202);
    const agent = await waitForState(pair.spoke, res.body.id, ['completed', 'failed', 'killed'], 120_000);
    const log = (await pair.spoke.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs?limit=10000`)).body.lines.join('\n');
    expect(log).toContain('Not logged in'); // the real CLI ran to its answer
    const files = git(pair.repo.path, 'ls-tree', '-r', '--name-only', agent.branch).split('\n');
    return { agent, log, hookRan: files.includes('hook.marker') };
  };

  let firstAgent: PublicAgent;

  it('without projectConfig in the grant the hook does not run', async () => {
    const { agent, log, hookRan } = await run('no-config');
    firstAgent = agent;
    expect(agent.sandbox).toBe('bubblewrap');
    expect(agent.limits).toEqual({ shell: false, network: 'host', projectConfig: false });
    expect(log).not.toContain('SessionStart');
    expect(hookRan).toBe(false);
  }, 180_000);

  it('with projectConfig: true in the grant it runs (the grant is what decides)', async () => {
    await setGrants({ projectConfig: true });
    const { log, hookRan } = await run('with-config');
    expect(log).toContain('SessionStart');
    expect(hookRan).toBe(true);
    await setGrants({});
  }, 180_000);

  it('spawns only from the repository\'s base branch or a granted one, never from another agent\'s branch', async () => {
    const before = (await pair.spoke.store.agents.list()).length;
    for (const baseBranch of [firstAgent.branch, 'dev', 'main~1', git(pair.repo.path, 'rev-parse', 'main')]) {
      const res = await spawn('from-elsewhere', { baseBranch });
      expect({ baseBranch, status: res.status, code: res.body.error?.code }).toEqual({ baseBranch, status: 400, code: 'base_branch_not_granted' });
    }
    expect((await pair.spoke.store.agents.list()).length).toBe(before);
    // A grant cannot list an agent branch.
    const bad = await pair.spoke.api<ErrorBody>('PATCH', `/federation/connections/${pair.hub.identity.instanceId}`, { grants: { baseBranches: [firstAgent.branch] } });
    expect({ status: bad.status, code: bad.body.error.code }).toEqual({ status: 400, code: 'invalid_grants' });
    // Granted: dev is allowed; the repository's base branch always is.
    await setGrants({ baseBranches: ['dev'] });
    for (const baseBranch of ['dev', 'main']) {
      const res = await spawn(`from-${baseBranch}`, { baseBranch });
      expect(res.status).toBe(202);
      expect(res.body.baseBranch).toBe(baseBranch);
      await waitForState(pair.spoke, res.body.id, ['completed', 'failed', 'killed'], 120_000);
    }
  }, 300_000);
});
