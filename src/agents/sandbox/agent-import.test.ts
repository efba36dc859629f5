import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { preparePrivateGitDir } from '../../git/private-gitdir.js';
import { WorktreeManager } from '../../git/worktrees.js';
import { git, makeTempRepo, TEST_GIT_USER, type TempDir } from '../../test-support/git-fixtures.js';
import { importAgentCommits } from './agent-import.js';

/**
 * The import's fast path (issue 24): only the objects of the agent's own
 * commits are packed and indexed, and that is enough: every object the
 * branch now reaches is in the repository, for one loose commit as for 200
 * packed ones. Checked here with cat-file and fsck, which production never runs.
 */
describe('importing an agent\'s commits', () => {
  let repo: TempDir;
  let box: string;
  let worktree: string;
  let gitDir: string;
  const branch = 'agent-imp-t';
  const manager = new WorktreeManager();

  beforeEach(async () => {
    repo = await makeTempRepo({ files: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`src/m${i}.ts`, `export const v${i} = ${i};\n`])) });
    const created = await manager.create({ repoPath: repo.path, name: branch, branch, baseBranch: 'main' });
    worktree = created.path;
    box = join(repo.path, '..', 'box');
    mkdirSync(box, { recursive: true });
    gitDir = (await preparePrivateGitDir(worktree, box)).gitDir;
  });
  afterEach(() => repo.cleanup());

  /** git as the agent runs it: in its worktree, on its private git dir. */
  const agentGit = (args: string[], input?: string): string => execFileSync('git', args, {
    cwd: worktree, encoding: 'utf8', input,
    env: { ...process.env, GIT_DIR: gitDir, GIT_WORK_TREE: worktree, GIT_AUTHOR_NAME: TEST_GIT_USER.name, GIT_AUTHOR_EMAIL: TEST_GIT_USER.email,
      GIT_COMMITTER_NAME: TEST_GIT_USER.name, GIT_COMMITTER_EMAIL: TEST_GIT_USER.email },
  });

  /** Every object the agent's tip reaches beyond the base is readable in the repository, and the repository is whole. */
  function expectAllLanded(tip: string): void {
    expect(git(repo.path, 'rev-parse', `refs/heads/${branch}`)).toBe(tip);
    const objects = git(repo.path, 'rev-list', '--objects', tip, '--not', 'main').split('\n').map((line) => line.split(' ')[0] as string);
    expect(objects.length).toBeGreaterThan(0);
    const missing = execFileSync('git', ['cat-file', '--batch-check'], { cwd: repo.path, encoding: 'utf8', input: `${objects.join('\n')}\n` })
      .split('\n').filter((line) => line.endsWith(' missing'));
    expect(missing).toEqual([]);
    git(repo.path, 'fsck', '--no-progress', '--no-dangling');
  }

  it('lands one loose commit: every object it made is in the repository', async () => {
    writeFileSync(join(worktree, 'one.txt'), 'one\n');
    writeFileSync(join(worktree, 'src', 'm1.ts'), 'export const v1 = 100;\n');
    agentGit(['add', '-A']);
    agentGit(['commit', '-q', '--no-verify', '-m', 'one']);
    const tip = agentGit(['rev-parse', 'HEAD']).trim();
    expect(() => git(repo.path, 'cat-file', '-e', tip)).toThrow(); // only in the private git dir so far
    const result = await importAgentCommits(box, box, repo.path, branch);
    expect(result).toEqual({ tip, keptHead: null });
    expectAllLanded(tip);
  }, 60_000);

  it('lands 200 packed commits: every object they made is in the repository', async () => {
    const base = git(repo.path, 'rev-parse', 'main');
    // fast-import writes them as one pack in the private git dir, as a `git gc` by the agent would.
    let stream = '';
    for (let i = 0; i < 200; i++) {
      const content = `commit ${i}\n`;
      stream += `commit refs/heads/${branch}\nmark :${i + 1}\ncommitter ${TEST_GIT_USER.name} <${TEST_GIT_USER.email}> ${1_700_000_000 + i} +0000\n`
        + `data ${`c${i}`.length}\nc${i}\n${i === 0 ? `from ${base}\n` : ''}`
        + `M 100644 inline gen/f${i}.txt\ndata ${content.length}\n${content}`
        + `M 100644 inline src/m${i % 50}.ts\ndata ${`export const v = ${i};\n`.length}\nexport const v = ${i};\n\n`;
    }
    agentGit(['fast-import', '--quiet', '--force'], stream);
    const tip = agentGit(['rev-parse', `refs/heads/${branch}`]).trim();
    const result = await importAgentCommits(box, box, repo.path, branch);
    expect(result?.tip).toBe(tip);
    expect(git(repo.path, 'rev-list', '--count', `main..${tip}`)).toBe('200');
    expectAllLanded(tip);
  }, 120_000);
});
