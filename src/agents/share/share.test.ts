import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addLayer, agentLayersRoot, allLayerRoots, lowersUnder, overlaysOf } from './layers.js';
import { sharedSnapshot } from './snapshot.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('shared snapshots and layers', () => {
  it('copies a new snapshot only when the directory changed, and deletes old ones no layer uses', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mosaic-share-'));
    const home = join(dir, 'home');
    const source = join(dir, 'node_modules');
    mkdirSync(join(source, 'dep'), { recursive: true });
    writeFileSync(join(source, 'dep', 'index.js'), 'v1\n');
    const inUse = (): Set<string> => lowersUnder(allLayerRoots(home));

    const first = await sharedSnapshot(home, 'app', 'node_modules', source, inUse);
    expect(await sharedSnapshot(home, 'app', 'node_modules', source, inUse)).toBe(first); // unchanged: same snapshot
    const layers = agentLayersRoot(join(home, 'agents', 'a1'));
    addLayer(layers, 'node_modules', first); // an agent's layer sits on the first one

    writeFileSync(join(source, 'dep', 'index.js'), 'v2\n');
    utimesSync(join(source, 'dep', 'index.js'), new Date(), new Date(Date.now() + 5000));
    const second = await sharedSnapshot(home, 'app', 'node_modules', source, inUse);
    expect(second).not.toBe(first);
    expect(readFileSync(join(second, 'dep', 'index.js'), 'utf8')).toBe('v2\n');
    expect(readFileSync(join(first, 'dep', 'index.js'), 'utf8')).toBe('v1\n'); // still used: kept

    rmSync(layers, { recursive: true });
    writeFileSync(join(source, 'dep', 'extra.js'), 'x\n');
    const third = await sharedSnapshot(home, 'app', 'node_modules', source, inUse);
    expect(readdirSync(join(third, '..')).sort()).toEqual([third.split('/').pop()].sort()); // unused ones gone
  });

  it('refuses a mount point that a setup replaced with a symlink', () => {
    dir = mkdtempSync(join(tmpdir(), 'mosaic-share-'));
    const worktree = join(dir, 'wt');
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(join(worktree, 'node_modules'), { recursive: true });
    mkdirSync(elsewhere);
    const root = join(dir, 'layers');
    addLayer(root, 'node_modules', join(dir, 'snapshot'));
    expect(overlaysOf(root, worktree)).toEqual([{ target: join(worktree, 'node_modules'), layerDir: expect.stringContaining(root) }]);

    rmSync(join(worktree, 'node_modules'), { recursive: true });
    symlinkSync(elsewhere, join(worktree, 'node_modules'));
    expect(() => overlaysOf(root, worktree)).toThrow(/no longer a directory of the worktree/);
  });
});
