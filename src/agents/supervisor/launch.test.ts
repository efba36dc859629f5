import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, waitFor } from '../../test-support/index.js';
import { freshBuild, launchSupervisor, supervisorCommandFor } from './launch.js';
import { readExitRecord, readPidFile } from './probe.js';
import { isPidAlive, readCmdline } from './proc.js';
import type { SupervisorSpec } from './spec.js';

const tmp = makeTempDir('mosaic-sup-launch-');
afterAll(() => tmp.cleanup());

let n = 0;
function makeSpec(argv: string[], extra: Partial<SupervisorSpec> = {}): SupervisorSpec {
  n += 1;
  return {
    agentId: `a${n}`,
    argv,
    cwd: tmp.path,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    agentDir: join(tmp.path, `agent-${n}`),
    timeoutMs: null,
    killGraceMs: 300,
    ...extra,
  };
}

const exitOf = (dir: string) => waitFor(() => readExitRecord(dir), { timeoutMs: 10_000, what: `exit.json in ${dir}` });

describe('launchSupervisor', () => {
  it('runs the command with exactly the given env, logs its output and records its exit code', async () => {
    const spec = makeSpec(['sh', '-c', 'echo "out $GREETING $HOME"; echo err >&2; pwd; exit 7'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hello' },
    });
    const launched = await launchSupervisor(spec);
    expect(launched.supervisorPid).toBeGreaterThan(1);
    const exit = await exitOf(spec.agentDir);
    expect(exit).toMatchObject({ exitCode: 7, signal: null, killed: false, timedOut: false, spawnError: null });
    expect(exit.endedAt).toBeGreaterThanOrEqual(exit.startedAt);
    // HOME is not inherited from the supervisor: the child sees only spec.env.
    const log = readFileSync(join(spec.agentDir, 'output.log'), 'utf8');
    expect(log).toBe(`out hello \nerr\n${tmp.path}\n`);
    expect(readPidFile(join(spec.agentDir, 'supervisor.pid'))).toBe(launched.supervisorPid);
    expect(readPidFile(join(spec.agentDir, 'child.pid'))).toBeGreaterThan(1);
    expect(statSync(spec.agentDir).mode & 0o777).toBe(0o700);
    // The spec (written 0600) carries the env: the supervisor deletes it once read.
    expect(existsSync(join(spec.agentDir, 'spec.json'))).toBe(false);
  });

  it('gives up at once, not after minutes of retries, when its agent directory was deleted meanwhile', async () => {
    const spec = makeSpec(['sh', '-c', 'while [ ! -f go ]; do sleep 0.05; done'], { cwd: tmp.path });
    mkdirSync(join(tmp.path, 'gone-cwd'), { recursive: true });
    spec.cwd = join(tmp.path, 'gone-cwd');
    const launched = await launchSupervisor(spec);
    await waitFor(() => existsSync(join(spec.agentDir, 'child.pid')), { timeoutMs: 10_000 });
    rmSync(spec.agentDir, { recursive: true, force: true });
    writeFileSync(join(spec.cwd, 'go'), '');
    // The exit record cannot be written anywhere: the supervisor ends instead of retrying for ten minutes.
    await waitFor(() => !isPidAlive(launched.supervisorPid), { timeoutMs: 10_000, what: 'the supervisor to exit' });
  });

  it('returns the pgid while the agent runs, and the agent leads its own process group', async () => {
    const spec = makeSpec(['sh', '-c', 'sleep 0.5']);
    const launched = await launchSupervisor(spec);
    expect(launched.exit).toBeNull();
    expect(launched.pgid).toBeGreaterThan(1);
    const stat = readFileSync(`/proc/${launched.pgid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgrp).toBe(launched.pgid);
    expect((await exitOf(spec.agentDir)).exitCode).toBe(0);
  });

  it('reports a missing binary as runtime_not_found without a pgid', async () => {
    const spec = makeSpec(['mosaic-no-such-binary-xyz', '--flag']);
    const launched = await launchSupervisor(spec);
    expect(launched.pgid).toBeNull();
    expect(launched.exit?.spawnError).toEqual({ code: 'runtime_not_found', message: 'command not found: mosaic-no-such-binary-xyz' });
    expect(launched.exit?.exitCode).toBeNull();
  });

  it('reports a non-executable file and a missing cwd as spawn_failed', async () => {
    const script = join(tmp.path, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const a = await launchSupervisor(makeSpec([script]));
    expect(a.exit?.spawnError?.code).toBe('spawn_failed');
    expect(a.exit?.spawnError?.message).toContain('EACCES');

    const b = await launchSupervisor(makeSpec(['true'], { cwd: join(tmp.path, 'missing-dir') }));
    expect(b.exit?.spawnError?.code).toBe('spawn_failed');
    expect(b.exit?.spawnError?.message).toContain('missing-dir');
  });

  it('keeps the agent running after the process that launched it exits', async () => {
    const spec = makeSpec(['sh', '-c', 'sleep 1; echo finished']);
    const launchUrl = new URL('./launch.ts', import.meta.url).href;
    const script = join(tmp.path, 'launcher.mts');
    writeFileSync(script, [
      `import { launchSupervisor } from ${JSON.stringify(launchUrl)};`,
      `const r = await launchSupervisor(${JSON.stringify(spec)});`,
      'process.stdout.write(JSON.stringify(r));',
      'process.exit(0);',
    ].join('\n'));
    const { args } = supervisorCommandFor(launchUrl);
    const tsxImport = args.slice(0, 2); // ['--import', <tsx loader>]
    const launcher = spawn(process.execPath, [...tsxImport, script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    launcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => launcher.on('exit', resolve));
    expect(code).toBe(0);
    const launched = JSON.parse(out) as { supervisorPid: number; pgid: number };
    expect(launched.pgid).toBeGreaterThan(1);
    // The launcher is gone and the agent has not finished yet…
    expect(readExitRecord(spec.agentDir)).toBeNull();
    // …but it finishes, and the orphaned supervisor records it.
    const exit = await exitOf(spec.agentDir);
    expect(exit.exitCode).toBe(0);
    expect(readFileSync(join(spec.agentDir, 'output.log'), 'utf8')).toBe('finished\n');
  });
});

describe('supervisorCommandFor', () => {
  it('starts main.ts through the tsx loader when running from sources', () => {
    const cmd = supervisorCommandFor(new URL('./launch.ts', import.meta.url).href);
    expect(cmd.execPath).toBe(process.execPath);
    expect(cmd.args[0]).toBe('--import');
    expect(cmd.args[1]).toMatch(/^file:\/\/.*tsx.*\.mjs$/);
    expect(existsSync(fileURLToPath(cmd.args[1] ?? ''))).toBe(true);
    expect(cmd.args[2]).toBe(fileURLToPath(new URL('./main.ts', import.meta.url)));
    expect(existsSync(cmd.args[2] ?? '')).toBe(true);
  });

  it('prefers a build that is at least as new as every source, and only then', async () => {
    const src = join(tmp.path, 'proj', 'src', 'agents', 'supervisor');
    const dist = join(tmp.path, 'proj', 'dist', 'agents', 'supervisor');
    mkdirSync(src, { recursive: true });
    mkdirSync(dist, { recursive: true });
    for (const file of ['main', 'spec']) writeFileSync(join(src, `${file}.ts`), '');
    writeFileSync(join(src, 'main.test.ts'), '');
    expect(freshBuild(src)).toBeUndefined(); // nothing built
    for (const file of ['main', 'spec']) writeFileSync(join(dist, `${file}.js`), '');
    expect(freshBuild(src)).toBe(join(dist, 'main.js'));
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(src, 'spec.ts'), later, later); // a source edited after the build
    expect(freshBuild(src)).toBeUndefined();
  });

  it('starts main.js with plain node when compiled', () => {
    const cmd = supervisorCommandFor('file:///opt/mosaic/dist/agents/supervisor/launch.js');
    expect(cmd).toEqual({ execPath: process.execPath, args: ['/opt/mosaic/dist/agents/supervisor/main.js'] });
  });

  it('works end to end when compiled: plain node, no tsx, no packages', async () => {
    const out = join(tmp.path, 'compiled');
    const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
    const here = fileURLToPath(new URL('.', import.meta.url));
    const built = spawnSync(process.execPath, [
      tsc, '--outDir', out, '--rootDir', join(here, '../..'), '--target', 'ES2022', '--module', 'NodeNext',
      '--moduleResolution', 'NodeNext', '--types', 'node', '--skipLibCheck', '--strict', '--verbatimModuleSyntax',
      join(here, 'launch.ts'), join(here, 'main.ts'),
    ], { encoding: 'utf8' });
    expect(built.stdout + built.stderr).toBe('');
    writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');

    const spec = makeSpec(['sh', '-c', 'sleep 0.3; echo compiled-ok']);
    const launchUrl = pathToFileURL(join(out, 'agents/supervisor/launch.js')).href;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', [
      `import { launchSupervisor } from ${JSON.stringify(launchUrl)};`,
      `const r = await launchSupervisor(${JSON.stringify(spec)});`,
      'process.stdout.write(JSON.stringify(r));',
    ].join('\n')], { encoding: 'utf8', cwd: tmp.path });
    expect(run.stderr).toBe('');
    const launched = JSON.parse(run.stdout) as { supervisorPid: number; pgid: number };
    const cmdline = readCmdline(launched.supervisorPid) ?? [];
    expect(cmdline.some((a) => a.endsWith('agents/supervisor/main.js'))).toBe(true);
    expect(cmdline).not.toContain('--import');
    expect((await exitOf(spec.agentDir)).exitCode).toBe(0);
    expect(readFileSync(join(spec.agentDir, 'output.log'), 'utf8')).toBe('compiled-ok\n');
  });
});
