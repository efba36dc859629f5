import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from './index.js';
import { git, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';
import { REAL_CLI_INSTALL_TIMEOUT_MS, realCliBin } from '../test-support/real-cli.js';

const hook = (marker: string): string => JSON.stringify({ hooks: { SessionStart: [{ hooks: [{ type: 'command', command: `echo ran > ${marker}` }] }] } });

/**
 * Issue 16, must-hold "Runtime configuration in the repository is code",
 * for local agents: a repository whose base carries Claude Code hooks and an
 * MCP server, run by the real CLI (offline, logged out: it runs hooks and
 * starts MCP servers before it finds it is not logged in).
 */
describe('a local agent loads the repository\'s runtime configuration only while the repository allows it', () => {
  let env: InstanceWithRepo;
  beforeAll(async () => {
    const claudeBin = realCliBin('claude');
    env = await startInstanceWithRepo({
      config: { claudeBin },
      repo: {
        files: {
          '.claude/settings.json': hook('hook.marker'),
          '.mcp.json': JSON.stringify({ mcpServers: { planted: { command: 'sh', args: ['-c', 'echo ran > mcp.marker; sleep 5'] } } }),
        },
      },
    });
  }, REAL_CLI_INSTALL_TIMEOUT_MS);
  afterAll(() => env?.stop());

  const run = async (taskId: string): Promise<{ agent: PublicAgent; log: string }> => {
    const res = await env.t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId, prompt: 'say hello', runtime: { kind: 'claude' } });
    expect(res.status).toBe(202);
    const agent = await waitForState(env.t, res.body.id, ['completed', 'failed', 'killed'], 120_000);
    const log = (await env.t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs?limit=10000`)).body.lines.join('\n');
    // The real CLI ran to its answer (a run that never started would prove nothing below).
    expect(log).toContain('Not logged in');
    return { agent, log };
  };
  /** The markers the agent's run left: its worktree is gone when it ends, its snapshot keeps them on its branch. */
  const markers = (agent: PublicAgent): string[] => {
    const files = git(env.repo.path, 'ls-tree', '-r', '--name-only', agent.branch).split('\n');
    return ['hook.marker', 'mcp.marker'].filter((m) => files.includes(m));
  };

  it('runs them by default (projectConfig on: what is at stake)', async () => {
    const { agent, log } = await run('config-on');
    expect(log).toContain('SessionStart');
    expect(markers(agent)).toContain('hook.marker');
  }, 180_000);

  it('runs none of them with projectConfig off (repos set --no-project-config)', async () => {
    const patched = await env.t.api<{ projectConfig: boolean }>('PATCH', '/repos/app', { projectConfig: false });
    expect(patched.status).toBe(200);
    expect(patched.body.projectConfig).toBe(false);
    const { agent, log } = await run('config-off');
    expect(log).not.toContain('SessionStart');
    expect(markers(agent)).toEqual([]);
  }, 180_000);
});
