import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/index.js';
import { isGroupAlive, isSupervisorAlive, readExitRecord, readPidFile } from './probe.js';
import { groupMembers, writeFileAtomic } from './proc.js';
import type { ExitRecord } from './spec.js';

const tmp = makeTempDir('mosaic-sup-probe-');
afterAll(() => tmp.cleanup());

const record: ExitRecord = {
  exitCode: 0, signal: null, timedOut: false, killed: false, spawnError: null, startedAt: 1, endedAt: 2,
};

describe('readExitRecord', () => {
  it('reads a complete record and rejects missing, partial, corrupt or ill-typed ones', () => {
    const dir = join(tmp.path, 'exit');
    mkdirSync(dir);
    expect(readExitRecord(dir)).toBeNull();
    writeFileAtomic(join(dir, 'exit.json'), JSON.stringify(record));
    expect(readExitRecord(dir)).toEqual(record);
    const full = JSON.stringify({ ...record, spawnError: { code: 'runtime_not_found', message: 'x' } });
    writeFileSync(join(dir, 'exit.json'), full.slice(0, full.length - 5));
    expect(readExitRecord(dir)).toBeNull();
    writeFileSync(join(dir, 'exit.json'), '\0\0garbage');
    expect(readExitRecord(dir)).toBeNull();
    writeFileSync(join(dir, 'exit.json'), JSON.stringify({ ...record, killed: 'yes' }));
    expect(readExitRecord(dir)).toBeNull();
    writeFileSync(join(dir, 'exit.json'), JSON.stringify({ ...record, spawnError: { code: 1 } }));
    expect(readExitRecord(dir)).toBeNull();
  });
});

describe('readPidFile', () => {
  it('accepts a positive pid and rejects garbage, pid 0/1 and missing files', () => {
    const p = join(tmp.path, 'pid');
    writeFileSync(p, '12345\n');
    expect(readPidFile(p)).toBe(12345);
    for (const bad of ['', 'abc', '-5', '0', '1', '12 34', '1e5']) {
      writeFileSync(p, bad);
      expect(readPidFile(p)).toBeNull();
    }
    expect(readPidFile(join(tmp.path, 'nope'))).toBeNull();
  });
});

describe('isSupervisorAlive / isGroupAlive', () => {
  it('is false for a dead pid and for a live pid whose command line does not name the agent dir', async () => {
    const agentDir = join(tmp.path, 'agents', 'abc');
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    expect(isSupervisorAlive(dead.pid ?? 0, agentDir)).toBe(false);
    expect(isSupervisorAlive(process.pid, agentDir)).toBe(false);

    // A live process that does name the dir counts (that is how a real supervisor is recognized).
    const fake = spawn('sleep', ['5'], { stdio: 'ignore' });
    const named = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)', agentDir], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(isSupervisorAlive(fake.pid ?? 0, agentDir)).toBe(false);
      expect(isSupervisorAlive(named.pid ?? 0, agentDir)).toBe(true);
      expect(isSupervisorAlive(named.pid ?? 0, join(tmp.path, 'agents', 'other'))).toBe(false);
    } finally {
      fake.kill('SIGKILL');
      named.kill('SIGKILL');
    }
  });

  it('sees a group as dead once only zombies remain', async () => {
    // The leader forks an orphan that exits at once: where pid 1 does not reap, it stays a zombie in the group.
    const leader = spawn('sh', ['-c', '(sleep 0.05 &); sleep 0.4'], { detached: true, stdio: 'ignore' });
    const pgid = leader.pid ?? 0;
    expect(isGroupAlive(pgid)).toBe(true);
    expect(groupMembers(pgid)).toContain(pgid);
    await new Promise((r) => leader.on('exit', r));
    await new Promise((r) => setTimeout(r, 150));
    expect(isGroupAlive(pgid)).toBe(false);
    expect(groupMembers(pgid)).toEqual([]);
  });

  it('never treats pid 0, 1 or negatives as a live group or supervisor', () => {
    for (const id of [0, 1, -1, 1.5]) {
      expect(isGroupAlive(id)).toBe(false);
      expect(isSupervisorAlive(id, tmp.path)).toBe(false);
    }
  });
});
