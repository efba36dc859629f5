import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MosaicError } from '../core/errors.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { LOCK_FILE } from './home-lock.js';
import { startInstance } from './index.js';

/**
 * Issue 7, must-hold 8: one home, one server. A second server on the same
 * MOSAIC_HOME refuses to start, naming the running one (pid, URL); a lock
 * left by a crashed server is detected and taken over.
 */
describe('one server per home', () => {
  const running: TestInstance[] = [];
  const homes: string[] = [];
  afterEach(async () => {
    await Promise.allSettled(running.splice(0).map((t) => t.stop()));
    for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
  });

  it('refuses a second server on the same home, naming the running one', async () => {
    const t = await startTestInstance();
    running.push(t);
    const lock = JSON.parse(readFileSync(join(t.home, LOCK_FILE), 'utf8')) as { pid: number; url: string };
    expect(lock).toMatchObject({ pid: process.pid, url: t.url });
    const err = await startInstance({ env: {}, config: { home: t.home, port: 0, host: '127.0.0.1', logLevel: 'silent' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MosaicError);
    expect((err as MosaicError).code).toBe('home_in_use');
    expect((err as MosaicError).message).toContain(`pid ${process.pid}`);
    expect((err as MosaicError).message).toContain(t.url);
    // The first server is untouched and still holds its lock.
    expect((await t.api('GET', '/repos')).status).toBe(200);
    expect(JSON.parse(readFileSync(join(t.home, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, url: t.url });
  });

  it('takes over a lock left by a crashed server, and releases it when it stops', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mosaic-home-'));
    homes.push(home);
    // A pid that surely is gone: a child that has already exited.
    const dead = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    writeFileSync(join(home, LOCK_FILE), JSON.stringify({ pid: deadPid, url: 'http://127.0.0.1:1', startedAt: 1 }));
    const t = await startTestInstance({}, home);
    expect(JSON.parse(readFileSync(join(home, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, url: t.url });
    await t.stop(true);
    expect(() => readFileSync(join(home, LOCK_FILE))).toThrow();
    // And the home can be used again at once.
    const again = await startTestInstance({}, home);
    running.push(again);
    expect((await again.api('GET', '/repos')).status).toBe(200);
  });
});
