import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../index.js';
import { waitForState } from '../../test-support/agents.js';
import { startPair, type Pair } from '../../test-support/federation.js';
import { makeTempRepo, type TempDir } from '../../test-support/git-fixtures.js';
import type { TestInstance } from '../../test-support/instance.js';
import { REAL_CLI_INSTALL_TIMEOUT_MS, realCliBin } from '../../test-support/real-cli.js';
import { startServerChild, type ServerChild } from '../../test-support/server-child.js';
import { shq } from '../../test-support/sandbox.js';

const FAKE_CLAUDE = fileURLToPath(new URL('../../test-support/fake-claude.mjs', import.meta.url));
type ErrorBody = { error: { code: string; message: string } };

/**
 * Issue 16, "Bind-backs never re-expose" (test 4): with `MOSAIC_HOME` at
 * `<x>/.local/share/mosaic` and Claude Code where its native installer puts it
 * (`<x>/.local/bin/claude` → `<x>/.local/share/claude/versions/<v>`), binding
 * the runtime's install prefix `<x>/.local` back would show `$MOSAIC_HOME`.
 */
describe('sandbox: runtime bind-backs never show a hidden path', () => {
  let x: string;
  let mosaicHome: string;
  let server: ServerChild;
  let repo: TempDir;
  let t: TestInstance;

  beforeAll(async () => {
    // A user's HOME (outside /tmp, which the sandbox replaces anyway).
    x = mkdtempSync('/var/tmp/mosaic-user-');
    chmodSync(x, 0o755);
    mosaicHome = join(x, '.local', 'share', 'mosaic');
    mkdirSync(mosaicHome, { recursive: true });
    const versions = join(x, '.local', 'share', 'claude', 'versions');
    mkdirSync(versions, { recursive: true });
    mkdirSync(join(x, '.local', 'bin'));
    // The installed "binary" (a copy of the fake CLI, which prints the real one's format; .mjs so node runs it as a
    // module) and its link on PATH.
    copyFileSync(FAKE_CLAUDE, join(versions, '9.9.9.mjs'));
    chmodSync(join(versions, '9.9.9.mjs'), 0o755);
    symlinkSync(join(versions, '9.9.9.mjs'), join(x, '.local', 'bin', 'claude'));
    repo = await makeTempRepo();
    server = await startServerChild({ home: mosaicHome, env: { HOME: x, MOSAIC_CLAUDE_BIN: join(x, '.local', 'bin', 'claude') } });
    t = server as unknown as TestInstance;
    expect((await server.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    repo?.cleanup();
    rmSync(x, { recursive: true, force: true });
  });

  it('a claude agent installed under <x>/.local cannot read the admin token or the identity key', async () => {
    const secrets = [join(mosaicHome, 'admin-token'), ...readdirSync(join(mosaicHome, 'identity')).map((f) => join(mosaicHome, 'identity', f))];
    const script = `for f in ${secrets.map(shq).join(' ')}; do cat "$f" 2>/dev/null && echo "LEAK:$f"; done; ls ${shq(join(x, '.local'))}; echo probe-done`;
    const res = await server.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'thief', prompt: `[fake:shell] ${script}` });
    expect(res.status).toBe(202);
    const agent = await waitForState(t, res.body.id, undefined, 60_000);
    expect(agent.sandbox).toBe('bubblewrap');
    const summary = agent.result?.summary ?? '';
    expect(summary).toContain('probe-done'); // the runtime ran from its narrowed bind-back
    expect(summary).not.toContain('LEAK:');
    expect(summary).not.toContain(server.adminToken);
    // <x>/.local shows only the path to the runtime, not its siblings (share/mosaic is not there at all).
    expect(summary).toMatch(/bin\s+share/);
    const logs = (await server.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines.join('\n');
    expect(logs).not.toContain(server.adminToken);
  }, 90_000);

  it('an agent whose bind-backs would contain a hidden path ends failed/sandbox_policy_conflict, naming the paths', async () => {
    // The repository borrows objects from <x>/.local (alternates): binding that back would show $MOSAIC_HOME.
    const borrowing = await makeTempRepo();
    try {
      writeFileSync(join(borrowing.path, '.git', 'objects', 'info', 'alternates'), `${join(x, '.local')}\n`);
      expect((await server.api('POST', '/repos', { name: 'borrowing', path: borrowing.path })).status).toBe(201);
      const res = await server.api<PublicAgent>('POST', '/agents', { repo: 'borrowing', taskId: 'conflict', prompt: '[fake:shell] echo ran' });
      expect(res.status).toBe(202);
      const agent = await waitForState(t, res.body.id, undefined, 60_000);
      expect(agent.state).toBe('failed');
      expect(agent.error?.code).toBe('sandbox_policy_conflict');
      expect(agent.error?.message).toContain(`${join(x, '.local')} contains ${mosaicHome}`);
      expect(agent.result?.summary ?? '').not.toContain('ran');
      expect((await server.api('DELETE', '/repos/borrowing')).status).toBeLessThan(300);
    } finally {
      borrowing.cleanup();
    }
  }, 90_000);

  it('a command runtime inside $MOSAIC_HOME or a repository\'s .git is refused at spawn (400 runtime_hidden), nothing created', async () => {
    const planted = join(mosaicHome, 'tool');
    writeFileSync(planted, '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const hook = join(repo.path, '.git', 'hooks', 'pre-commit.sample'); // executable, as git ships it
    const before = (await server.api<{ agents: unknown[] }>('GET', '/agents')).body.agents.length;
    for (const program of [planted, hook]) {
      const res = await server.api<ErrorBody>('POST', '/agents', { repo: 'app', taskId: 'hidden', prompt: 'p', runtime: { kind: 'command', argv: [program] } });
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'runtime_hidden' });
    }
    // Found on PATH just the same.
    const onPath = await server.api<ErrorBody>('POST', '/agents', {
      repo: 'app', taskId: 'hidden', prompt: 'p', runtime: { kind: 'command', argv: ['tool'] }, env: { PATH: `${mosaicHome}:/usr/bin:/bin` },
    });
    expect({ status: onPath.status, code: onPath.body.error?.code }).toEqual({ status: 400, code: 'runtime_hidden' });
    expect((await server.api<{ agents: unknown[] }>('GET', '/agents')).body.agents.length).toBe(before);
  });
});

describe('sandbox: a peer\'s command runtime inside a hidden path', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair({ grants: { commands: ['agent.spawn', 'agent.status'], repos: ['web'], runtimes: ['command'], maxActiveAgents: 3 } });
  });
  afterAll(async () => {
    await pair.stop();
  });

  it('is refused at spawn with runtime_hidden, and the spoke creates nothing', async () => {
    const { hub, spoke, repo } = pair;
    const planted = join(spoke.home, 'tool');
    writeFileSync(planted, '#!/bin/sh\ncat admin-token\n', { mode: 0o755 });
    for (const program of [planted, join(repo.path, '.git', 'hooks', 'pre-commit.sample')]) {
      const res = await hub.api<ErrorBody>('POST', '/agents', { peer: 'spoke', repo: 'web', taskId: 'hidden', prompt: 'p', runtime: { kind: 'command', argv: [program] } });
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'runtime_hidden' });
    }
    expect(await spoke.store.agents.list()).toEqual([]);
  });
});

/** The narrowed bind-back still runs the real Claude Code CLI from its npm package under HOME (~/.cache, hidden). */
describe('sandbox: the real Claude Code CLI from its package under HOME', () => {
  let pair: { t: TestInstance; repo: TempDir } | undefined;
  let bin: string;
  beforeAll(async () => {
    bin = realCliBin('claude');
  }, REAL_CLI_INSTALL_TIMEOUT_MS);
  afterAll(async () => {
    await pair?.t.stop();
    pair?.repo.cleanup();
  });

  it('runs sandboxed (as the agent user when root) and ends failed with its own "Not logged in"', async () => {
    const { startInstanceWithRepo } = await import('../../test-support/instance.js');
    const env = await startInstanceWithRepo({ config: { claudeBin: bin } });
    pair = { t: env.t, repo: env.repo };
    const res = await env.t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: 'real', prompt: 'say hi' });
    expect(res.status).toBe(202);
    const agent = await waitForState(env.t, res.body.id, undefined, 120_000);
    expect(agent.sandbox).toBe('bubblewrap');
    expect(agent.state).toBe('failed');
    expect(agent.error?.message ?? '').toContain('Not logged in');
  }, 150_000);
});
