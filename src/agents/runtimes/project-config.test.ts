import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../test-support/git-fixtures.js';
import { REAL_CLI_INSTALL_TIMEOUT_MS, realCliBin } from '../../test-support/real-cli.js';
import { claudeInvocation } from './claude.js';
import { allowsProjectConfig } from './project-config.js';

/** What a repository can carry that Claude Code runs: hooks in both settings files and an MCP server, each leaving a marker. */
const MARKERS = ['hook-settings', 'hook-settings-local', 'mcp-server', 'hook-user'] as const;

/** A hook in the user settings of `home` (in the sandbox: the agent's private HOME, which it can write). */
function plantUserHook(home: string, project: string): void {
  mkdirSync(join(home, '.claude'), { recursive: true });
  const command = `echo ran > ${join(project, 'hook-user.marker')}`;
  writeFileSync(join(home, '.claude', 'settings.json'), JSON.stringify({ hooks: { SessionStart: [{ hooks: [{ type: 'command', command }] }] } }));
}

function plantProjectConfig(project: string): void {
  mkdirSync(join(project, '.claude', 'skills', 'planted'), { recursive: true });
  const hook = (marker: string) => ({ hooks: { SessionStart: [{ hooks: [{ type: 'command', command: `echo ran > ${marker}.marker` }] }] } });
  writeFileSync(join(project, '.claude', 'settings.json'), JSON.stringify(hook('hook-settings')));
  writeFileSync(join(project, '.claude', 'settings.local.json'), JSON.stringify(hook('hook-settings-local')));
  writeFileSync(join(project, '.mcp.json'), JSON.stringify({ mcpServers: { planted: { command: 'sh', args: ['-c', 'echo ran > mcp-server.marker; sleep 5'] } } }));
  writeFileSync(join(project, '.claude', 'skills', 'planted', 'SKILL.md'), '---\nname: planted\ndescription: planted skill\n---\nRun it.\n');
}

/**
 * Runs the real Claude Code (2.1.332, offline and logged out: it answers
 * "Not logged in", but runs SessionStart hooks and starts MCP servers
 * first) with the argv Mosaic builds, in a project that carries all of it.
 */
function runClaude(bin: string, project: string, home: string, projectConfig: boolean): Promise<{ markers: string[]; init: Record<string, unknown> | undefined }> {
  const { argv } = claudeInvocation({ kind: 'claude' }, { claudeBin: bin, prompt: 'say hello', type: 'worker', shell: false, projectConfig });
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { cwd: project, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home }, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout) => {
      // Exit 1 ("Not logged in") is expected; a timeout or a missing binary is not.
      if (err && (err as { killed?: boolean }).killed) return reject(err);
      if (!stdout.includes('"type":"result"')) return reject(new Error(`claude printed no result: ${String(err)}\n${stdout.slice(0, 2000)}`));
      const init = stdout.split('\n').map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return undefined; } })
        .find((o) => o?.type === 'system' && o.subtype === 'init');
      // The MCP server is started in the background: give it the time its marker needs before looking.
      setTimeout(() => resolve({ markers: MARKERS.filter((m) => existsSync(join(project, `${m}.marker`))), init }), 1500);
    });
  });
}

describe('Claude Code loads no configuration the repository carries when projectConfig is false (real CLI)', () => {
  let bin: string;
  const dirs: TempDir[] = [];
  beforeAll(() => {
    bin = realCliBin('claude');
  }, REAL_CLI_INSTALL_TIMEOUT_MS);
  afterAll(() => dirs.forEach((d) => d.cleanup()));

  const project = (): { project: string; home: string } => {
    const dir = makeTempDir('mosaic-project-config-');
    dirs.push(dir);
    const projectDir = join(dir.path, 'project');
    const home = join(dir.path, 'home');
    mkdirSync(projectDir);
    mkdirSync(home);
    plantProjectConfig(projectDir);
    plantUserHook(home, projectDir);
    return { project: projectDir, home };
  };

  it('with project config allowed, the CLI runs the repository\'s hooks and MCP server (what is at stake)', async () => {
    const { project: dir, home } = project();
    const { markers, init } = await runClaude(bin, dir, home, true);
    expect(markers).toEqual([...MARKERS]);
    expect(init?.skills).toContain('planted');
  }, 180_000);

  it('without it: no hook (user-level ones neither), no MCP server, none of the repository\'s skills', async () => {
    const { project: dir, home } = project();
    const { markers, init } = await runClaude(bin, dir, home, false);
    expect(markers).toEqual([]);
    expect(init).toBeDefined();
    expect(init?.mcp_servers).toEqual([]);
    expect(init?.skills).not.toContain('planted');
  }, 180_000);
});

describe('allowsProjectConfig', () => {
  it('local agents follow the repository (default on); peers need the grant and the repository', () => {
    const peer = (projectConfig?: boolean) => ({ limits: { shell: false, network: 'host' as const, ...(projectConfig === undefined ? {} : { projectConfig }) } });
    expect(allowsProjectConfig({ limits: null }, {})).toBe(true);
    expect(allowsProjectConfig({ limits: null }, { projectConfig: false })).toBe(false);
    expect(allowsProjectConfig(peer(), {})).toBe(false);
    expect(allowsProjectConfig(peer(false), {})).toBe(false);
    expect(allowsProjectConfig(peer(true), {})).toBe(true);
    expect(allowsProjectConfig(peer(true), { projectConfig: false })).toBe(false);
  });
});
