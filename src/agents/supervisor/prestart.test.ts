import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, waitFor } from '../../test-support/index.js';
import { launchSupervisor, prestartSupervisor, supervisorCommand } from './launch.js';
import { readExitRecord } from './probe.js';
import { isPidAlive } from './proc.js';
import type { SupervisorSpec } from './spec.js';

const tmp = makeTempDir('mosaic-sup-prestart-');
afterAll(() => tmp.cleanup());

let n = 0;
function makeSpec(argv: string[]): SupervisorSpec {
  n += 1;
  return {
    agentId: `p${n}`, argv, cwd: tmp.path, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    agentDir: join(tmp.path, `agent-${n}`), timeoutMs: null, killGraceMs: 300,
  };
}

const exitOf = (dir: string) => waitFor(() => readExitRecord(dir), { timeoutMs: 10_000, what: `exit.json in ${dir}` });

/**
 * A supervisor started ahead (while the sandbox is prepared) runs the agent
 * once it is given the spec, and leaves no trace when it is not: cancelled,
 * its wait run out, or its server gone.
 */
describe('supervisor started ahead', () => {
  it('runs the agent when given the spec, as the supervisor of record', async () => {
    const spec = makeSpec(['sh', '-c', 'echo ran >> runs.txt; echo hello; exit 3']);
    spec.cwd = join(tmp.path, 'cwd-1');
    mkdirSync(spec.cwd);
    const ahead = prestartSupervisor(spec.agentId, spec.agentDir);
    expect(ahead).not.toBeNull();
    await new Promise((r) => setTimeout(r, 300)); // it is up and waiting
    const launched = await launchSupervisor(spec, { prestarted: ahead });
    expect(launched.supervisorPid).toBe(ahead?.proc.pid);
    const exit = await exitOf(spec.agentDir);
    expect(exit.exitCode).toBe(3);
    expect(readFileSync(join(spec.agentDir, 'output.log'), 'utf8')).toBe('hello\n');
    expect(readFileSync(join(spec.cwd, 'runs.txt'), 'utf8')).toBe('ran\n');
    expect(existsSync(join(spec.agentDir, 'spec.json'))).toBe(false);
  });

  it('exits without a trace when cancelled; a launch given the cancelled one starts another, and the agent runs once', async () => {
    const spec = makeSpec(['sh', '-c', 'echo ran >> runs.txt']);
    spec.cwd = join(tmp.path, 'cwd-2');
    mkdirSync(spec.cwd);
    const ahead = prestartSupervisor(spec.agentId, spec.agentDir);
    const pid = ahead?.proc.pid as number;
    await new Promise((r) => setTimeout(r, 300));
    ahead?.cancel();
    await waitFor(() => !isPidAlive(pid), { timeoutMs: 10_000, what: 'the cancelled supervisor to exit' });
    expect(readdirSync(spec.agentDir)).toEqual([]);

    const launched = await launchSupervisor(spec, { prestarted: ahead });
    expect(launched.supervisorPid).not.toBe(pid);
    await exitOf(spec.agentDir);
    expect(readFileSync(join(spec.cwd, 'runs.txt'), 'utf8')).toBe('ran\n');
  });

  it('a launch given one that died before it claimed its spec (not yet reaped) starts another, and the agent runs once', async () => {
    const spec = makeSpec(['sh', '-c', 'echo ran >> runs.txt']);
    spec.cwd = join(tmp.path, 'cwd-3');
    mkdirSync(spec.cwd);
    const ahead = prestartSupervisor(spec.agentId, spec.agentDir);
    await new Promise((r) => setTimeout(r, 300));
    ahead?.proc.kill('SIGKILL');
    // No await in between: Node has not seen its exit yet, so the launch may still take it for alive.
    const launched = await launchSupervisor(spec, { prestarted: ahead });
    expect(launched.supervisorPid).not.toBe(ahead?.proc.pid);
    await exitOf(spec.agentDir);
    expect(readFileSync(join(spec.cwd, 'runs.txt'), 'utf8')).toBe('ran\n');
  });

  it('gives up when no spec comes within its wait, writing nothing', async () => {
    const dir = join(tmp.path, 'no-spec');
    mkdirSync(dir);
    const { execPath, args } = supervisorCommand();
    const proc = spawn(execPath, [...args, dir, '--await-spec', String(process.pid)], {
      cwd: dir, stdio: 'ignore', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MOSAIC_SUPERVISOR_SPEC_WAIT_MS: '300' },
    });
    const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives up at once when the server that started it is gone (a later server relaunches with its own)', async () => {
    const dir = join(tmp.path, 'orphaned');
    mkdirSync(dir);
    const { execPath, args } = supervisorCommand();
    const quoted = [execPath, ...args, dir].map((a) => `'${a}'`).join(' ');
    // A shell stands in for the server: it starts the supervisor in the background (naming itself) and exits.
    const sh = spawn('sh', ['-c', `${quoted} --await-spec $$ & echo $!`], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(await new Promise<string>((resolve) => sh.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
    expect(pid).toBeGreaterThan(1);
    await waitFor(() => !isPidAlive(pid), { timeoutMs: 10_000, what: 'the orphaned supervisor to exit' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
