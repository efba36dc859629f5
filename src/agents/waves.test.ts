import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, spawnCommand, waitForAllEnded } from '../test-support/agents.js';
import { makeTempRepo } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { sandboxAvailable } from '../test-support/sandbox.js';
import type { PublicAgent } from './public.js';

const AGENTS = 40;
const WAVE = 5;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issue 17, test 2: forty sandboxed agents in one repository, spawned in
 * waves so that many finish (and are imported, snapshotted, removed) while
 * others' worktrees are being created: every one ends completed with its own
 * commit on its own branch, and nothing is left behind in `.git/worktrees`.
 */
describe.runIf(sandboxAvailable())('forty agents in waves', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };

  beforeAll(async () => {
    repo = await makeTempRepo();
    t = await startTestInstance({ killGraceMs: 300, sandbox: 'required', maxAgents: 10 });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  it('forty commits on forty branches, none lost', async () => {
    const spawned: PublicAgent[] = [];
    for (let wave = 0; wave < AGENTS / WAVE; wave++) {
      const ids = Array.from({ length: WAVE }, (_, k) => wave * WAVE + k);
      // Short and uneven runs: the previous waves end while this one's worktrees are being made.
      spawned.push(...await Promise.all(ids.map((i) => spawnCommand(t,
        `sleep 0.${i % 4}; echo ${i} > w${i}.txt && git add w${i}.txt && git commit -qm "wave commit ${i}"`, { taskId: `w${i}` }))));
      await sleep(300);
    }
    const ended = await waitForAllEnded(t, spawned.map((a) => a.id), 540_000);
    const lost = ended.filter((agent, i) => agent.state !== 'completed'
      || !git(repo.path, 'log', '--format=%s', `main..${agent.branch}`).split('\n').includes(`wave commit ${i}`));
    expect(lost.map((a) => ({ id: a.id, state: a.state, error: a.error }))).toEqual([]);
    expect(new Set(ended.map((a) => a.branch)).size).toBe(AGENTS);
    expect(git(repo.path, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
    expect(git(repo.path, 'rev-list', '--all', '--count')).not.toBe('');
    const span = Math.max(...ended.map((a) => a.endedAt ?? 0)) - Math.min(...ended.map((a) => a.createdAt));
    const runs = ended.map((a) => (a.endedAt ?? 0) - (a.startedAt ?? 0)).sort((x, y) => x - y);
    console.log(`forty agents in waves: ${span} ms from the first spawn to the last end; run time median ${runs[20]} ms, max ${runs[39]} ms`);
  }, 600_000);
});
