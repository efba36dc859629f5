import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitWatch } from './exit-watch.js';
import { EXIT_FILE } from './supervisor/index.js';
import { spawnCommand, waitForState } from '../test-support/agents.js';
import { startInstanceWithRepo, type InstanceWithRepo } from '../test-support/instance.js';

const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ExitWatch', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
  const dir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'mosaic-exitwatch-'));
    dirs.push(d);
    return d;
  };

  it('fires when an exit record is renamed into place, not for other files, and no more once dropped', async () => {
    let fired = 0;
    const watch = new ExitWatch(() => { fired++; });
    const a = dir();
    watch.add('a', a);
    watch.add('a', a); // a second add of the same agent is no second watch
    expect(watch.size).toBe(1);
    writeFileSync(join(a, 'log.jsonl'), 'line\n');
    await settle();
    expect(fired).toBe(0);
    writeFileSync(join(a, `${EXIT_FILE}.tmp`), '{}');
    renameSync(join(a, `${EXIT_FILE}.tmp`), join(a, EXIT_FILE));
    await settle();
    expect(fired).toBeGreaterThanOrEqual(1);

    const before = fired;
    watch.retain(new Set());
    expect(watch.size).toBe(0);
    writeFileSync(join(a, EXIT_FILE), '{}');
    await settle();
    expect(fired).toBe(before);
    watch.close();
  });

  it('fires at once for an exit recorded before the watch, and skips a directory that is gone', () => {
    let fired = 0;
    const watch = new ExitWatch(() => { fired++; });
    const a = dir();
    writeFileSync(join(a, EXIT_FILE), '{}');
    watch.add('a', a);
    expect(fired).toBe(1);
    watch.add('gone', join(a, 'missing'));
    expect(watch.size).toBe(1);
    watch.close();
    expect(watch.size).toBe(0);
  });
});

describe('an agent\'s end is recorded when it happens, not at the next poll', () => {
  let env: InstanceWithRepo | undefined;
  afterEach(async () => { await env?.stop(); env = undefined; });

  it('ends agents long before a one-minute poll would', async () => {
    env = await startInstanceWithRepo({ config: { pollMs: 60_000 } });
    const t = env.t;
    // One that ends as soon as it starts (its record may exist before its watch) and one that runs a moment.
    const quick = await spawnCommand(t, 'true', { taskId: 'quick' });
    const brief = await spawnCommand(t, 'sleep 0.5; echo done > done.txt', { taskId: 'brief' });
    // Without the watch nothing would record their ends for a minute: these waits would time out.
    const ended = await Promise.all([waitForState(t, quick.id, ['completed', 'failed'], 15_000), waitForState(t, brief.id, ['completed', 'failed'], 15_000)]);
    expect(ended.map((a) => a.state)).toEqual(['completed', 'completed']);
  });
});
