import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PublicAgent } from '../agents/index.js';
import type { WorktreeView } from '../agents/reconciler.js';
import { git, waitForAllEnded } from '../test-support/agents.js';
import { makeTempRepo, plantHalfMadeEntry } from '../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../test-support/instance.js';
import { startServerChild, type ServerChild } from '../test-support/server-child.js';

const BURST = 8;

/** When the server is killed, relative to what it is doing (not to the clock: the machine may be loaded). */
interface Timing {
  name: string;
  until(server: ServerChild, repoPath: string, spawns: Promise<boolean>[], prefix: string): Promise<void>;
  /** Its git children die with it (as when the whole process group is killed), not only the server. */
  withChildren?: boolean;
}
const TIMINGS: Timing[] = [
  { name: 'as the first spawn is answered', until: async (_server, _repo, spawns) => void await Promise.race(spawns) },
  {
    name: 'in the middle of a `git worktree add` (its entry still locked "initializing"), git killed with it',
    withChildren: true,
    until: async (_server, repoPath) => {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !mid(repoPath)) await sleep(2);
    },
  },
  {
    name: 'once an agent has completed, others still being launched',
    until: async (server, _repo, _spawns, prefix) => {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const agents = (await server.api<{ agents: PublicAgent[] }>('GET', '/agents').catch(() => null))?.body.agents ?? [];
        if (agents.some((a) => a.taskId.startsWith(prefix) && a.state === 'completed')) return;
        await sleep(20);
      }
    },
  },
];

/** The pids of `git` processes whose parent is `pid`. */
function gitChildren(pid: number): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === pid && comm === 'git') found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Whether some `worktree add` is half-way: an entry git has locked "initializing". */
function mid(repoPath: string): boolean {
  try {
    return readdirSync(join(repoPath, '.git', 'worktrees')).some((name) => existsSync(join(repoPath, '.git', 'worktrees', name, 'locked')));
  } catch {
    return false;
  }
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const script = (tag: string): string => `echo ${tag} > ${tag}.txt && git add ${tag}.txt && git commit -qm "commit ${tag}"`;

/** `.git/worktrees/*` entries git left mid-add: locked "initializing", or HEAD still the null id. */
function halfMadeEntries(repoPath: string): string[] {
  const root = join(repoPath, '.git', 'worktrees');
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.filter((name) => {
    if (existsSync(join(root, name, 'locked'))) return true;
    try {
      return /^0{40}$/.test(readFileSync(join(root, name, 'HEAD'), 'utf8').trim());
    } catch {
      return true;
    }
  });
}

/**
 * Issue 17, test 3: the server SIGKILLed during a burst of spawns, at three
 * timings (as the first spawn is answered, in the middle of a worktree add,
 * once one agent has completed). After each restart every agent that ended completed has its
 * commit on its branch, broken worktree entries (what the crash left, and one
 * planted like it) are pruned, and the next five agents are unaffected.
 */
describe('a crash during a burst of spawns', () => {
  const home = mkdtempSync(join(tmpdir(), 'mosaic-burst-'));
  let server: ServerChild | undefined;
  let restarted: TestInstance | undefined;
  let repo: { path: string; cleanup(): void } | undefined;

  afterAll(async () => {
    await server?.crash();
    await restarted?.stop(true);
    repo?.cleanup();
    rmSync(home, { recursive: true, force: true });
  });

  const checkCompleted = (agents: readonly PublicAgent[], tags: ReadonlyMap<string, string>): void => {
    for (const agent of agents) {
      if (agent.state === 'completed') {
        expect(git(repo!.path, 'log', '--format=%s', `main..${agent.branch}`).split('\n'), agent.id).toContain(`commit ${tags.get(agent.id)}`);
      } else {
        // Not completed: a clear error, never a silent one.
        expect(agent.state, JSON.stringify(agent)).toBe('failed');
        expect(agent.error?.code).toMatch(/^(orchestrator_lost|work_not_saved)$/);
      }
    }
  };

  it('loses no completed agent\'s commit, prunes what the crash left, and the next agents run', { timeout: 900_000 }, async () => {
    repo = await makeTempRepo();
    let registered = false;
    for (const [round, timing] of TIMINGS.entries()) {
      server = await startServerChild({ home, env: { MOSAIC_MAX_AGENTS: String(BURST) } });
      if (!registered) {
        expect((await server.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
        registered = true;
      }
      const tags = new Map<string, string>();
      const live = server;
      const spawns = Array.from({ length: BURST }, async (_, i) => {
        const tag = `r${round}a${i}`;
        const res = await live.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: tag, prompt: 'p', runtime: { kind: 'command', argv: ['sh', '-c', script(tag)] } })
          .catch(() => null); // the server may be gone before it answers
        if (res?.status === 202) tags.set(res.body.id, tag);
        return res?.status === 202;
      });
      await timing.until(live, repo.path, spawns, `r${round}a`);
      // Both at once: the server gets no turn to notice its git's end and clean up.
      for (const child of timing.withChildren ? gitChildren(server.pid) : []) {
        try {
          process.kill(child, 'SIGKILL');
        } catch {
          // already ended
        }
      }
      await server.crash();
      await Promise.all(spawns);
      server = undefined;
      const leftByCrash = halfMadeEntries(repo.path).length;
      // And one the way a crash mid-add leaves it, which nothing of this instance names (its lock is old).
      const planted = plantHalfMadeEntry(repo.path, `agent-planted-${round}`, { locked: true, lockAgeMs: 5 * 60_000 });

      restarted = await startTestInstance({ killGraceMs: 300, maxAgents: BURST }, home);
      const t = restarted;
      const all = (await t.api<{ agents: PublicAgent[] }>('GET', '/agents')).body.agents.filter((a) => a.taskId.startsWith(`r${round}a`));
      for (const agent of all) tags.set(agent.id, agent.taskId); // also those whose answer the crash cut off
      const ended = await waitForAllEnded(t, all.map((a) => a.id), 240_000);
      checkCompleted(ended, tags);
      const worktrees = (await t.api<{ worktrees: WorktreeView[] }>('GET', '/worktrees')).body.worktrees;
      expect(worktrees.filter((w) => w.broken !== undefined)).toEqual([]);
      expect(halfMadeEntries(repo.path)).toEqual([]);
      expect(existsSync(planted.entry) || existsSync(planted.dir)).toBe(false);

      // The next five are unaffected.
      const next = await Promise.all([0, 1, 2, 3, 4].map(async (i) => {
        const tag = `n${round}a${i}`;
        const res = await t.api<PublicAgent>('POST', '/agents', { repo: 'app', taskId: tag, prompt: 'p', runtime: { kind: 'command', argv: ['sh', '-c', script(tag)] } });
        expect(res.status).toBe(202);
        tags.set(res.body.id, tag);
        return res.body;
      }));
      const nextEnded = await waitForAllEnded(t, next.map((a) => a.id), 120_000);
      expect(nextEnded.map((a) => a.state)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
      checkCompleted(nextEnded, tags);
      console.log(`crash ${timing.name}: ${ended.length} agents known, ${ended.filter((a) => a.state === 'completed').length} completed, `
        + `${ended.filter((a) => a.state !== 'completed').map((a) => a.error?.code).join(',') || 'none failed'}; half-made entries left by the crash: ${leftByCrash}`);
      await t.stop(true);
      restarted = undefined;
    }
  });
});
