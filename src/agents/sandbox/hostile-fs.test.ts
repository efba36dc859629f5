import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../test-support/git-fixtures.js';
import { copyAgentObjects, HostileTreeError, readAgentFile, removeTree, removeTreeInBackground, settleBackgroundRemovals } from './hostile-fs.js';

/** A FIFO (Node has no mkfifo of its own): opening one for reading would hang a careless reader. */
function fifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

describe('hostile-fs', () => {
  let tmp: TempDir;
  let outside: string;
  let tree: string;

  beforeEach(() => {
    tmp = makeTempDir('mosaic-hostile-');
    outside = join(tmp.path, 'outside');
    tree = join(tmp.path, 'tree');
    mkdirSync(outside);
    mkdirSync(tree);
    writeFileSync(join(outside, 'secret'), 'sentinel\n');
  });
  afterEach(() => tmp.cleanup());

  it('reads a plain file, refuses a symlink, a hard link and a symlinked directory on the way, null when absent', async () => {
    mkdirSync(join(tree, 'refs', 'heads'), { recursive: true });
    writeFileSync(join(tree, 'HEAD'), 'ref: refs/heads/x\n');
    symlinkSync(join(outside, 'secret'), join(tree, 'linked'));
    linkSync(join(outside, 'secret'), join(tree, 'hard'));
    symlinkSync(outside, join(tree, 'refs', 'tags'));
    expect(await readAgentFile(tree, [], 'HEAD', 100)).toBe('ref: refs/heads/x\n');
    expect(await readAgentFile(tree, ['refs', 'heads'], 'missing', 100)).toBeNull();
    await expect(readAgentFile(tree, [], 'linked', 100)).rejects.toBeInstanceOf(HostileTreeError);
    await expect(readAgentFile(tree, [], 'hard', 100)).rejects.toBeInstanceOf(HostileTreeError);
    await expect(readAgentFile(tree, ['refs', 'tags'], 'secret', 100)).rejects.toBeInstanceOf(HostileTreeError);
    await expect(readAgentFile(tree, [], 'HEAD', 4)).rejects.toBeInstanceOf(HostileTreeError);
    await expect(readAgentFile(tree, ['..', 'outside'], 'secret', 100)).rejects.toBeInstanceOf(HostileTreeError);
  });

  it('copies loose objects and pack pairs only, never through a link, and refuses more than the limit', async () => {
    const objects = join(tree, 'objects');
    mkdirSync(join(objects, 'ab'), { recursive: true });
    mkdirSync(join(objects, 'pack'));
    mkdirSync(join(objects, 'info'));
    writeFileSync(join(objects, 'ab', 'c'.repeat(38)), 'loose');
    symlinkSync(join(outside, 'secret'), join(objects, 'ab', 'd'.repeat(38)));
    linkSync(join(outside, 'secret'), join(objects, 'ab', 'e'.repeat(38)));
    fifo(join(objects, 'ab', 'f'.repeat(38)));
    symlinkSync(outside, join(objects, 'cd'));
    writeFileSync(join(objects, 'pack', `pack-${'1'.repeat(40)}.pack`), 'pack');
    writeFileSync(join(objects, 'pack', `pack-${'1'.repeat(40)}.idx`), 'idx');
    writeFileSync(join(objects, 'pack', `pack-${'2'.repeat(40)}.pack`), 'no idx');
    writeFileSync(join(objects, 'info', 'alternates'), '/etc\n');
    const dest = join(tmp.path, 'dest');
    const copied = await copyAgentObjects(tree, dest, 1000);
    expect(copied).toEqual({ files: 3, bytes: 'loose'.length + 'pack'.length + 'idx'.length });
    expect(readFileSync(join(dest, 'ab', 'c'.repeat(38)), 'utf8')).toBe('loose');
    for (const name of ['d', 'e', 'f']) expect(existsSync(join(dest, 'ab', name.repeat(38)))).toBe(false);
    expect(existsSync(join(dest, 'cd'))).toBe(false);
    expect(existsSync(join(dest, 'info'))).toBe(false);
    expect(existsSync(join(dest, 'pack', `pack-${'2'.repeat(40)}.pack`))).toBe(false);
    await expect(copyAgentObjects(tree, join(tmp.path, 'small'), 6)).rejects.toThrow(/exceed/);

    // The objects directory itself replaced by a link: refused, nothing read.
    const other = join(tmp.path, 'other');
    mkdirSync(other);
    symlinkSync(objects, join(other, 'objects'));
    await expect(copyAgentObjects(other, join(tmp.path, 'dest2'), 1000)).rejects.toBeInstanceOf(HostileTreeError);
  });

  it('removes a tree of links, hard links and unreadable directories without touching what they point to', () => {
    mkdirSync(join(tree, 'a', 'b'), { recursive: true });
    symlinkSync(join(outside, 'secret'), join(tree, 'a', 'file-link'));
    symlinkSync(outside, join(tree, 'a', 'dir-link'));
    linkSync(join(outside, 'secret'), join(tree, 'a', 'b', 'hard'));
    mkdirSync(join(tree, 'locked', 'inner'), { recursive: true });
    writeFileSync(join(tree, 'locked', 'inner', 'f'), 'x');
    chmodSync(join(tree, 'locked', 'inner'), 0o000);
    chmodSync(join(tree, 'locked'), 0o500);
    removeTree(tree);
    expect(existsSync(tree)).toBe(false);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('sentinel\n');
    removeTree(tree); // idempotent

    // The root itself a link: the link goes, not its target.
    symlinkSync(outside, join(tmp.path, 'root-link'));
    removeTree(join(tmp.path, 'root-link'));
    expect(existsSync(join(outside, 'secret'))).toBe(true);
  });

  it('removes the same tree in the background, links unfollowed, and says when all its removals ended', async () => {
    mkdirSync(join(tree, 'a', 'b'), { recursive: true });
    symlinkSync(join(outside, 'secret'), join(tree, 'a', 'file-link'));
    symlinkSync(outside, join(tree, 'a', 'dir-link'));
    linkSync(join(outside, 'secret'), join(tree, 'a', 'b', 'hard'));
    for (let i = 0; i < 200; i++) writeFileSync(join(tree, 'a', `f${i}`), 'x');
    mkdirSync(join(tree, 'locked', 'inner'), { recursive: true });
    writeFileSync(join(tree, 'locked', 'inner', 'f'), 'x');
    chmodSync(join(tree, 'locked', 'inner'), 0o000);
    chmodSync(join(tree, 'locked'), 0o500);
    symlinkSync(outside, join(tmp.path, 'root-link'));
    const errors: unknown[] = [];
    removeTreeInBackground(tree, (err) => errors.push(err));
    removeTreeInBackground(join(tmp.path, 'root-link'), (err) => errors.push(err));
    removeTreeInBackground(join(tmp.path, 'never-there'), (err) => errors.push(err));
    await settleBackgroundRemovals();
    expect(errors).toEqual([]);
    expect(existsSync(tree)).toBe(false);
    expect(existsSync(join(tmp.path, 'root-link'))).toBe(false);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('sentinel\n');
  });
});
