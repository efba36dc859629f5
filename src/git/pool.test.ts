import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MosaicError } from '../core/errors.js';
import { git, makeTempRepo, type TempDir } from '../test-support/git-fixtures.js';
import { inspectPooled, listPooledWorktrees, normalizeSetupInput, poolIdOfPath, setupInputsChanged } from './pool.js';
import { branchExists } from './repo.js';
import { WorktreeManager } from './worktrees.js';

function commitFile(repo: string, rel: string, content: string): string {
  mkdirSync(join(repo, rel, '..'), { recursive: true });
  writeFileSync(join(repo, rel), content);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', `change ${rel}`);
  return git(repo, 'rev-parse', 'HEAD');
}

describe('pooled worktrees (git level)', () => {
  let repo: TempDir;
  let manager: WorktreeManager;

  beforeEach(async () => {
    repo = await makeTempRepo({ files: { 'package-lock.json': '{"v":1}\n', 'src/a.txt': 'a\n' } });
    manager = new WorktreeManager();
  });
  afterEach(() => repo.cleanup());

  it('creates pool-<id> on mosaic-pool-<id>, lists it, and hands it over under the agent names', async () => {
    const created = await manager.createPooled(repo.path, 'abcd1234', 'main');
    expect(created.path).toBe(join(`${repo.path}_worktrees`, 'pool-abcd1234'));
    expect(created.branch).toBe('mosaic-pool-abcd1234');
    expect(poolIdOfPath(repo.path, created.path)).toBe('abcd1234');
    expect(poolIdOfPath(repo.path, join(`${repo.path}_worktrees`, 'agent-x-t'))).toBeNull();
    writeFileSync(join(created.path, 'setup-output.txt'), 'made by setup\n');

    const listed = await listPooledWorktrees(repo.path);
    expect(listed).toEqual([expect.objectContaining({ id: 'abcd1234', path: created.path, branch: 'mosaic-pool-abcd1234', prunable: false })]);

    const handed = await manager.handOverPooled(repo.path, created, { name: 'agent-q1-task', branch: 'agent-q1-task' });
    expect(handed.path).toBe(join(`${repo.path}_worktrees`, 'agent-q1-task'));
    expect(handed.baseCommit).toBe(git(repo.path, 'rev-parse', 'main'));
    expect(existsSync(created.path)).toBe(false);
    expect(readFileSync(join(handed.path, 'setup-output.txt'), 'utf8')).toBe('made by setup\n');
    expect(git(handed.path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('agent-q1-task');
    expect(await branchExists(repo.path, 'mosaic-pool-abcd1234')).toBe(false);
    expect(await listPooledWorktrees(repo.path)).toEqual([]);
    // The moved worktree works like any other: git sees it at its new path.
    writeFileSync(join(handed.path, 'new.txt'), 'x');
    git(handed.path, 'add', 'new.txt');
    git(handed.path, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'work');
    expect(git(repo.path, 'log', '-1', '--format=%s', 'agent-q1-task')).toBe('work');
  });

  it('refuses a hand-over onto a taken branch and leaves the pooled worktree intact', async () => {
    const created = await manager.createPooled(repo.path, 'abcd1234', 'main');
    git(repo.path, 'branch', 'agent-taken-t');
    const err = await manager.handOverPooled(repo.path, created, { name: 'agent-taken-t', branch: 'agent-taken-t' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MosaicError);
    expect((err as MosaicError).code).toBe('branch_exists');
    expect((await inspectPooled(created.path))?.branch).toBe('mosaic-pool-abcd1234');
  });

  it('brings a pooled worktree to a new tip keeping untracked files, and tells when setup inputs changed', async () => {
    const created = await manager.createPooled(repo.path, 'abcd1234', 'main');
    mkdirSync(join(created.path, 'node_modules'));
    writeFileSync(join(created.path, 'node_modules', 'dep.js'), 'dep');
    const before = await inspectPooled(created.path);

    const codeOnly = commitFile(repo.path, 'src/a.txt', 'a2\n');
    expect(await setupInputsChanged(repo.path, created.baseCommit, codeOnly, ['package-lock.json'])).toBe(false);
    await manager.refreshPooled(repo.path, created.path, codeOnly);
    const after = await inspectPooled(created.path);
    expect(after?.head).toBe(codeOnly);
    expect(after?.branch).toBe('mosaic-pool-abcd1234');
    expect(after?.trackedStatus).toBe(before?.trackedStatus);
    expect(readFileSync(join(created.path, 'src/a.txt'), 'utf8')).toBe('a2\n');
    expect(readFileSync(join(created.path, 'node_modules', 'dep.js'), 'utf8')).toBe('dep');

    const lockChanged = commitFile(repo.path, 'package-lock.json', '{"v":2}\n');
    expect(await setupInputsChanged(repo.path, codeOnly, lockChanged, ['package-lock.json'])).toBe(true);
    const nested = commitFile(repo.path, 'web/yarn.lock', 'x\n');
    expect(await setupInputsChanged(repo.path, lockChanged, nested, ['yarn.lock'])).toBe(true); // any depth
    expect(await setupInputsChanged(repo.path, lockChanged, nested, ['yarn.lock/x', 'Cargo.lock'])).toBe(false);
    expect(await setupInputsChanged(repo.path, '0'.repeat(40), nested, ['yarn.lock'])).toBe(true); // unreadable: assume changed
  });

  it('sees damage: a tracked edit changes the status, a deleted directory reads as null', async () => {
    const created = await manager.createPooled(repo.path, 'abcd1234', 'main');
    const clean = await inspectPooled(created.path);
    writeFileSync(join(created.path, 'README.md'), 'tampered');
    expect((await inspectPooled(created.path))?.trackedStatus).not.toBe(clean?.trackedStatus);
    await manager.removePooled(repo.path, created.path, created.branch);
    expect(await inspectPooled(created.path)).toBeNull();
    expect(await branchExists(repo.path, 'mosaic-pool-abcd1234')).toBe(false);
  });

  it('validates setupInputs globs', () => {
    expect(normalizeSetupInput('package-lock.json')).toBe('package-lock.json');
    for (const bad of ['', ':(top)x', '../x', '/etc/passwd', '!x', 'a\0b']) {
      expect(() => normalizeSetupInput(bad)).toThrow(MosaicError);
    }
  });
});
