import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MosaicError } from '../core/errors.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { MAX_CHAIN } from './layered-bases.js';
import { BASES_DIR, isMountPoint, LayeredWorktrees, LAYERS_DIR } from './layered.js';
import { managedRoot } from './paths.js';
import { trustAgentOwnedTrees } from './run.js';
import { snapshotWorktree } from './snapshot.js';
import { WorktreeManager } from './worktrees.js';

/** Layered worktrees need root (they mount an overlay on the host); CI and this machine run the suite as root. */
const asRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

/**
 * Runs `script` in the worktree `cwd` as the agent user, as an agent in its
 * sandbox would write: its top directory handed over first (as the sandbox's
 * hand-over does), the test repository's private parent made passable.
 */
function asAgent(cwd: string, script: string): void {
  chmodSync(dirname(dirname(cwd)), 0o711);
  chownSync(cwd, NOBODY.uid, NOBODY.gid);
  execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script], { cwd, stdio: 'pipe' });
}

const until = async (check: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.skipIf(!asRoot)('layered worktrees (overlay on one checkout per base commit)', () => {
  let repo: TestRepo;
  let manager: WorktreeManager;
  let unavailable: string[];

  // As in a server run as root: git trusts a worktree the agent user owns.
  beforeAll(() => trustAgentOwnedTrees(NOBODY.uid));
  afterAll(() => trustAgentOwnedTrees(null));
  beforeEach(() => {
    repo = makeTestRepo();
    for (let i = 0; i < 40; i++) repo.write(`src/d${i % 4}/f${i}.txt`, `${i}\n`);
    repo.commitAll('files');
    unavailable = [];
    manager = new WorktreeManager({ layered: NOBODY, onLayeredUnavailable: (_root, reason) => unavailable.push(reason) });
  });
  afterEach(async () => {
    const root = managedRoot(repo.path);
    for (const name of existsSync(root) ? readdirSync(root).filter((n) => !n.startsWith('.')) : []) {
      await manager.remove(repo.path, join(managedRoot(repo.path), name)).catch(() => undefined);
    }
    repo.cleanup();
  });

  const create = (name: string, baseBranch = 'main') => manager.create({ repoPath: repo.path, name, branch: name, baseBranch });

  it('mounts each worktree over one shared checkout of its base commit, clean to git without reading a file', async () => {
    const a = await create('agent-a');
    const b = await create('agent-b');
    expect(unavailable).toEqual([]);
    expect(isMountPoint(a.path)).toBe(true);
    expect(isMountPoint(b.path)).toBe(true);
    expect(readdirSync(join(managedRoot(repo.path), BASES_DIR))).toEqual([a.baseCommit]);
    expect(readFileSync(join(a.path, 'src/d1/f5.txt'), 'utf8')).toBe('5\n');
    expect(lstatSync(join(a.path, 'src/d1/f5.txt')).uid).toBe(NOBODY.uid);
    expect(repo.git(['status', '--porcelain'], a.path)).toBe('');
    expect(repo.git(['rev-parse', '--abbrev-ref', 'HEAD'], b.path).trim()).toBe('agent-b');
    // The index is the base's: its stat data match what the overlay shows, so nothing needs a refresh.
    expect(repo.git(['diff-files', '--name-only'], a.path)).toBe('');
    expect(repo.git(['worktree', 'list', '--porcelain'])).toContain('locked mosaic: layered worktree');
  });

  it('keeps what the agent changes in its own layer: edits, deletions, directory renames, new files; the base never changes', async () => {
    const a = await create('agent-a');
    const b = await create('agent-b');
    const base = join(managedRoot(repo.path), BASES_DIR, a.baseCommit, 'tree');
    asAgent(a.path, 'echo changed >> src/d0/f0.txt && rm src/d1/f1.txt && mv src/d2 src/moved && echo new > top.txt && mkdir -p n/m && echo deep > n/m/x');
    expect(readFileSync(join(base, 'src/d0/f0.txt'), 'utf8')).toBe('0\n');
    expect(existsSync(join(base, 'src/d1/f1.txt'))).toBe(true);
    expect(readFileSync(join(b.path, 'src/d0/f0.txt'), 'utf8')).toBe('0\n');
    expect(existsSync(join(b.path, 'src/d2/f2.txt'))).toBe(true);
    const commit = await snapshotWorktree(a.path, 'snapshot');
    expect(commit).not.toBeNull();
    const changed = repo.git(['diff', '--name-status', '-M', a.baseCommit, commit!]).trim().split('\n').sort();
    expect(changed).toContain('M\tsrc/d0/f0.txt');
    expect(changed).toContain('D\tsrc/d1/f1.txt');
    expect(changed).toContain('A\ttop.txt');
    expect(changed).toContain('A\tn/m/x');
    expect(changed.filter((line) => line.startsWith('R100\tsrc/d2/'))).toHaveLength(10);
    expect(repo.git(['status', '--porcelain'], b.path)).toBe('');
  });

  it('removes the mount, the directory, the layer and the registration; a new base commit gets its own base, unused ones go', async () => {
    const a = await create('agent-a');
    asAgent(a.path, 'echo x > junk.txt');
    await manager.remove(repo.path, a.path);
    const root = managedRoot(repo.path);
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(join(root, LAYERS_DIR, 'agent-a'))).toBe(false);
    expect(repo.git(['worktree', 'list', '--porcelain'])).not.toContain('agent-a');
    await until(() => readdirSync(join(root, '.trash')).length === 0);
    // The newest base stays for the next spawn.
    expect(readdirSync(join(root, BASES_DIR))).toEqual([a.baseCommit]);

    repo.write('src/d0/f0.txt', 'moved on\n');
    repo.commitAll('base moves');
    const b = await create('agent-b');
    expect(readFileSync(join(b.path, 'src/d0/f0.txt'), 'utf8')).toBe('moved on\n');
    expect(readdirSync(join(root, BASES_DIR)).sort()).toEqual([a.baseCommit, b.baseCommit].sort());
    // A full base nothing stands on, used long ago: deleted (idle time 0 here; 10 minutes in a server).
    const stray = join(root, BASES_DIR, 'f'.repeat(40));
    mkdirSync(join(stray, 'tree'), { recursive: true });
    writeFileSync(join(stray, 'ready'), '');
    utimesSync(stray, new Date(0), new Date(0));
    const removed: string[] = [];
    const collector = new LayeredWorktrees(NOBODY, 60_000, 0);
    await collector.collect(root, (path) => { removed.push(path); rmSync(path, { recursive: true }); });
    expect(removed.map((path) => basename(path))).toEqual([`.gone-${'f'.repeat(40)}`]);
    // b's base is a diff on a's: a's stays with it, used by a layer or not.
    expect(readdirSync(join(root, BASES_DIR)).sort()).toEqual([a.baseCommit, b.baseCommit].sort());
    await manager.remove(repo.path, b.path);
    await collector.collect(root, (path) => rmSync(path, { recursive: true }));
    expect(readdirSync(join(root, BASES_DIR)).sort()).toEqual([a.baseCommit, b.baseCommit].sort());
    const c = await create('agent-c');
    expect(c.baseCommit).toBe(b.baseCommit);
    expect(readFileSync(join(c.path, 'src/d0/f0.txt'), 'utf8')).toBe('moved on\n');
  });

  it('makes a new base as a diff on the newest: only what changed is written, git sees it clean, the agent owns it; chains are cut', async () => {
    const a = await create('agent-a');
    const root = managedRoot(repo.path);
    repo.write('src/d0/f0.txt', 'changed\n');
    repo.git(['rm', '-q', 'src/d1/f1.txt']);
    repo.git(['rm', '-q', '-r', 'src/d3']);
    repo.write('newdir/deep/x.txt', 'new\n');
    repo.commitAll('a change');
    const b = await create('agent-b');
    const diff = join(root, BASES_DIR, b.baseCommit, 'diff');
    expect(readFileSync(join(root, BASES_DIR, b.baseCommit, 'parent'), 'utf8').trim()).toBe(a.baseCommit);
    const written = execFileSync('find', [diff, '-type', 'f', '-printf', '%P\n'], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(written).toEqual(['newdir/deep/x.txt', 'src/d0/f0.txt']);
    expect(existsSync(join(b.path, 'src/d1/f1.txt'))).toBe(false);
    expect(existsSync(join(b.path, 'src/d3'))).toBe(false);
    expect(readFileSync(join(b.path, 'src/d2/f2.txt'), 'utf8')).toBe('2\n');
    for (const rel of ['newdir', 'newdir/deep', 'newdir/deep/x.txt', 'src/d0/f0.txt', 'src/d2/f2.txt']) expect(lstatSync(join(b.path, rel)).uid).toBe(NOBODY.uid);
    expect(repo.git(['diff-files', '--name-only'], b.path)).toBe('');
    expect(repo.git(['status', '--porcelain'], b.path)).toBe('');
    expect(repo.git(['status', '--porcelain'], a.path)).toBe('');
    asAgent(b.path, 'echo mine >> newdir/deep/x.txt && echo mine >> src/d0/f0.txt && mkdir src/d3 && echo back > src/d3/f3.txt');
    expect(repo.git(['-c', 'safe.directory=*', 'status', '--porcelain'], b.path).split('\n').filter(Boolean).sort())
      .toEqual([' M newdir/deep/x.txt', ' M src/d0/f0.txt', '?? src/d3/']);
    expect(readFileSync(join(a.path, 'src/d0/f0.txt'), 'utf8')).toBe('0\n');

    // Each move of the base stacks one more diff, up to MAX_CHAIN; the next base is a full tree again.
    const kinds: string[] = [];
    for (let i = 0; i < MAX_CHAIN + 1; i++) {
      repo.write(`src/d0/f0.txt`, `round ${i}\n`);
      repo.commitAll(`round ${i}`);
      const w = await create(`agent-r${i}`);
      kinds.push(existsSync(join(root, BASES_DIR, w.baseCommit, 'tree')) ? 'full' : 'diff');
      expect(readFileSync(join(w.path, 'src/d0/f0.txt'), 'utf8')).toBe(`round ${i}\n`);
      expect(repo.git(['status', '--porcelain'], w.path)).toBe('');
    }
    // a full, b and r0..r5 diffs (chain of 8), r6 full, r7, r8 diffs on it.
    expect(kinds).toEqual([...Array(MAX_CHAIN - 2).fill('diff'), 'full', 'diff', 'diff']);
  });

  it('after a reboot (unmounted) the directory is no worktree to git, prune keeps it, and a remount brings the work back', async () => {
    const a = await create('agent-a');
    asAgent(a.path, 'echo kept > work.txt');
    execFileSync('umount', [a.path]);
    expect(readdirSync(a.path)).toEqual([]);
    await expect(snapshotWorktree(a.path, 'snapshot')).rejects.toSatisfy((err: unknown) => err instanceof MosaicError && err.code === 'not_a_worktree');
    repo.git(['worktree', 'prune']);
    expect(repo.git(['worktree', 'list', '--porcelain'])).toContain('agent-a');
    expect(await manager.remountLayered(repo.path)).toEqual([]);
    expect(isMountPoint(a.path)).toBe(true);
    expect(readFileSync(join(a.path, 'work.txt'), 'utf8')).toBe('kept\n');
    expect(repo.git(['-c', 'safe.directory=*', 'status', '--porcelain'], a.path)).toBe('?? work.txt\n');
  });

  it('removes an unmounted one too (a reboot, then the agent is removed before any remount)', async () => {
    const a = await create('agent-a');
    execFileSync('umount', [a.path]);
    await manager.remove(repo.path, a.path);
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(join(managedRoot(repo.path), LAYERS_DIR, 'agent-a'))).toBe(false);
    expect(repo.git(['worktree', 'list', '--porcelain'])).not.toContain('agent-a');
  });

  it('pooled worktrees stay full checkouts (a pool moves them, a mount point cannot be moved)', async () => {
    const pooled = await manager.createPooled(repo.path, 'p001', 'main');
    expect(isMountPoint(pooled.path)).toBe(false);
    expect(existsSync(join(pooled.path, 'src/d1/f5.txt'))).toBe(true);
  });

  it('falls back to a full checkout where the overlay cannot be mounted (an upper on an overlay), and says so once', async () => {
    // A repository living on an overlay itself: overlayfs refuses an upper layer there.
    const outer = mkdtempSync(join(tmpdir(), 'mosaic-outer-'));
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(outer, d));
    execFileSync('mount', ['-t', 'overlay', 'outer', '-o', `lowerdir=${outer}/lower,upperdir=${outer}/upper,workdir=${outer}/work`, `${outer}/merged`]);
    try {
      const inner = makeTestRepo({ name: 'inner' });
      const moved = join(outer, 'merged', 'repo');
      execFileSync('cp', ['-a', inner.path, moved]);
      inner.cleanup();
      const first = await manager.create({ repoPath: moved, name: 'agent-x', branch: 'agent-x', baseBranch: 'main' });
      const second = await manager.create({ repoPath: moved, name: 'agent-y', branch: 'agent-y', baseBranch: 'main' });
      expect(isMountPoint(first.path)).toBe(false);
      expect(existsSync(join(first.path, 'README.md'))).toBe(true);
      expect(existsSync(join(second.path, 'README.md'))).toBe(true);
      expect(unavailable).toHaveLength(1);
      expect(execFileSync('git', ['status', '--porcelain'], { cwd: first.path, encoding: 'utf8' })).toBe('');
    } finally {
      execFileSync('umount', ['-l', `${outer}/merged`]);
      rmSync(outer, { recursive: true, force: true });
    }
  });
});
