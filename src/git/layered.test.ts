import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MosaicError } from '../core/errors.js';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
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

  it('removes the mount, the directory, the layer and the registration; a new base commit gets its own base, the idle one goes', async () => {
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
    // Unused and not the newest: deleted (idle time 0 here; 10 minutes in a server).
    const removed: string[] = [];
    await new LayeredWorktrees(NOBODY, 60_000, 0).collect(root, (path) => { removed.push(path); rmSync(path, { recursive: true }); });
    expect(readdirSync(join(root, BASES_DIR))).toEqual([b.baseCommit]);
    expect(removed).toHaveLength(1);
    // A base a layer still names is never deleted, newest or not.
    const c = await create('agent-c');
    expect(c.baseCommit).toBe(b.baseCommit);
    mkdirSync(join(root, BASES_DIR, 'f'.repeat(40), 'tree'), { recursive: true });
    await new LayeredWorktrees(NOBODY, 60_000, 0).collect(root, (path) => rmSync(path, { recursive: true }));
    expect(readdirSync(join(root, BASES_DIR))).toContain(b.baseCommit);
    expect(readFileSync(join(c.path, 'src/d0/f0.txt'), 'utf8')).toBe('moved on\n');
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
