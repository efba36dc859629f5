import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../../agents/index.js';
import { waitForState } from '../../test-support/agents.js';
import { startPair, type Pair } from '../../test-support/federation.js';
import { shq } from '../../test-support/sandbox.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../../test-support/fake-claude.mjs', import.meta.url));

/** Issue 6, must-hold 3: a peer granted `claude` without shell gets agents with no shell tool, and they cannot read the token. */
describe('a peer\'s claude agents under its grant', () => {
  let pair: Pair;

  beforeAll(async () => {
    pair = await startPair({
      spokeConfig: { claudeBin: FAKE_CLAUDE, killGraceMs: 300 },
      grants: { commands: ['agent.spawn', 'agent.status', 'agent.logs'], repos: ['web'], runtimes: ['claude'], maxActiveAgents: 3 },
    });
  });
  afterAll(async () => {
    await pair.stop();
  });

  it('no shell in the grant: the argv allows no shell tool, the injected command does not run, the token stays unread', async () => {
    const { hub, spoke } = pair;
    expect(pair.spokeConn.grants.shell).toBeUndefined();
    const tokenPath = join(spoke.home, 'admin-token');
    const res = await hub.api<PublicAgent>('POST', '/agents', {
      peer: 'spoke', repo: 'web', taskId: 'noshell', prompt: `[fake:shell] cat ${shq(tokenPath)}`,
    });
    expect(res.status).toBe(202);
    const agent = await waitForState(spoke, res.body.id);
    expect(agent.sandbox).toBe('bubblewrap');
    expect(agent.limits).toEqual({ shell: false, network: 'host', projectConfig: false });
    const lines = (await spoke.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
    const argvLine = lines.find((l) => l.startsWith('fake-claude: argv '));
    expect(argvLine).toBeDefined();
    const argv = JSON.parse((argvLine ?? '').slice('fake-claude: argv '.length)) as string[];
    const tools = argv[argv.indexOf('--tools') + 1] ?? '';
    expect(argv).toContain('--tools');
    expect(tools.split(',')).not.toContain('Bash');
    expect((argv[argv.indexOf('--disallowedTools') + 1] ?? '').split(',')).toContain('Bash');
    expect((argv[argv.indexOf('--allowedTools') + 1] ?? '').split(',')).not.toContain('Bash');
    expect(agent.result?.summary).toBe('shell refused: no Bash tool');
    expect(lines.join('\n')).not.toContain(spoke.adminToken);
  });

  it('with shell granted, the shell runs, but inside the sandbox: the token is still out of reach', async () => {
    const { hub, spoke } = pair;
    const grant = await spoke.api('PATCH', `/federation/connections/${hub.identity.instanceId}`, { grants: { shell: true } });
    expect(grant.status).toBe(200);
    const tokenPath = join(spoke.home, 'admin-token');
    const res = await hub.api<PublicAgent>('POST', '/agents', {
      peer: 'spoke', repo: 'web', taskId: 'withshell', prompt: `[fake:shell] cat ${shq(tokenPath)}`,
    });
    expect(res.status).toBe(202);
    const agent = await waitForState(spoke, res.body.id);
    expect(agent.limits).toEqual({ shell: true, network: 'host', projectConfig: false });
    expect(agent.result?.summary).toMatch(/command failed: .*No such file/);
    expect(JSON.stringify(agent)).not.toContain(spoke.adminToken);
  });
});
