import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { makeTempDir, makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { colorEnabled } from './output.js';
import { cliArgv, cliEnv, eventually, finished, runCli, startCli } from '../test-support/cli.js';

/** Issue 9 point 11: list order and options, events filters and start, colours, completion. */

let t: TestInstance;
let repo: TempDir;
let env: Record<string, string>;
let first: PublicAgent;
let second: PublicAgent;
const execFileAsync = promisify(execFile);
const cli = (...args: string[]) => runCli(args, env);
const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

beforeAll(async () => {
  repo = await makeTempRepo();
  t = await startTestInstance();
  env = { MOSAIC_HOME: t.home, MOSAIC_URL: t.url };
  expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  first = await waitForState(t, (await spawnCommand(t, 'true', { taskId: 'first' })).id);
  second = await waitForState(t, (await spawnCommand(t, 'exit 1', { taskId: 'second' })).id);
});

afterAll(async () => {
  await t?.stop();
  repo?.cleanup();
});

describe('agents list', () => {
  it('says its real order in help, and takes --limit and -q', async () => {
    const [help, limited, quiet] = await Promise.all([cli('agents', 'list', '--help'), cli('agents', 'list', '--limit', '1'), cli('agents', 'list', '-q')]);
    expect(help.stdout).toContain('oldest first');
    expect(limited.stdout.split('\n').filter(Boolean)).toHaveLength(2); // header and the newest agent
    expect(limited.stdout).toContain(second.id);
    expect(quiet.stdout).toBe(`${first.id}\n${second.id}\n`);
  });

  it('colours states on a terminal only, and never with NO_COLOR', async () => {
    // Asynchronously: the instance answering the CLI runs in this process.
    const onTty = async (extra: Record<string, string>) => (await execFileAsync('script',
      ['-qec', `${cliArgv().map(quote).join(' ')} agents list`, '/dev/null'], { env: cliEnv({ ...env, ...extra }), encoding: 'utf8' })).stdout;
    const coloured = await onTty({});
    expect(coloured).toMatch(/\x1b\[32mcompleted *\x1b\[0m/);
    expect(coloured).toMatch(/\x1b\[31mfailed \(exit_nonzero\) *\x1b\[0m/);
    expect(await onTty({ NO_COLOR: '1' })).not.toContain('\x1b[');
    expect((await cli('agents', 'list')).stdout).not.toContain('\x1b[');
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
  });
});

describe('events', () => {
  it('starts from now by default, replays with --after 0, and filters by --agent and --repo', async () => {
    const replay = await new Promise<string>((resolve) => {
      const child = startCli(['events', '--after', '0', '--agent', first.id, '--repo', 'app', '--json'], env);
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('"completed"')) child.kill('SIGINT');
      });
      child.on('close', () => resolve(out));
    });
    const replayed = replay.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { agent: PublicAgent });
    expect(replayed.map((e) => e.agent.state)).toEqual(['queued', 'spawning', 'running', 'completed']);
    expect(replayed.every((e) => e.agent.id === first.id)).toBe(true);

    const live = startCli(['events'], env);
    const done = finished(live);
    let out = '';
    live.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 1500)); // connected: history is behind it
    const third = await waitForState(t, (await spawnCommand(t, 'true', { taskId: 'third' })).id);
    await eventually(() => out, (text) => text.includes('completed'));
    live.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130); // Ctrl-C: the shell's status for an interrupted command
    expect(out).toContain(third.id);
    expect(out).not.toContain(first.id);
    expect(out).toMatch(new RegExp(`${third.id}\\s+completed\\s+task=third\\s+repo=app`));
  }, 60_000);
});

describe('completion', () => {
  it('prints bash, zsh and fish scripts built from the command tree; the bash one completes verbs and options', async () => {
    const [bash, zsh, fish] = await Promise.all([cli('completion', 'bash'), cli('completion', 'zsh'), cli('completion', 'fish')]);
    const dir = makeTempDir();
    try {
      const script = join(dir.path, 'mosaic.bash');
      writeFileSync(script, bash.stdout);
      const complete = (...words: string[]) => execFileSync('bash', ['-c',
        `source ${quote(script)}; COMP_WORDS=(${words.map(quote).join(' ')}); COMP_CWORD=${words.length - 1}; _mosaic_complete; echo "\${COMPREPLY[*]}"`],
      { encoding: 'utf8' }).trim();
      expect(complete('mosaic', 'ag')).toBe('agents');
      expect(complete('mosaic', 'agents', 'sp')).toBe('spawn');
      expect(complete('mosaic', 'agents', 'spawn', '--repo', 'web', '--fol')).toBe('--follow');
      const clears = complete('mosaic', 'repos', 'set', 'app', '--clear-').split(' ');
      expect(clears).toEqual(expect.arrayContaining(['--clear-setup', '--clear-copy-files']));
      expect(clears.every((word) => word.startsWith('--clear-'))).toBe(true);
    } finally {
      dir.cleanup();
    }
    expect(zsh.stdout).toContain('bashcompinit');
    expect(zsh.stdout).toContain('complete -o default -F _mosaic_complete mosaic');
    expect(fish.stdout).toContain("complete -c mosaic -n '__fish_use_subcommand' -a 'init up status");
    expect(fish.stdout).toContain("complete -c mosaic -n '__fish_seen_subcommand_from agents; and __fish_seen_subcommand_from spawn' -l follow");
    const bad = await cli('completion', 'tcsh');
    expect(bad.code).toBe(2);
  });
});
