import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, spawnCommand, waitForState } from '../../test-support/agents.js';
import { makeTempRepo } from '../../test-support/git-fixtures.js';
import { startTestInstance, type TestInstance } from '../../test-support/instance.js';
import { attackOutcome, attackScript, shq } from '../../test-support/sandbox.js';
import { waitFor } from '../../test-support/wait.js';

/** Every file under `dir` with a hash of its content, to prove nothing was changed or removed. */
function fingerprint(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(p, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/** Issue 6, must-hold 1 (git): the agent commits on its own branch and cannot touch the repository's shared git state. */
describe('sandbox: git', () => {
  let t: TestInstance;
  let repo: { path: string; cleanup(): void };
  let gitDir: string;

  beforeAll(async () => {
    repo = await makeTempRepo();
    gitDir = join(repo.path, '.git');
    // A pack and loose objects both, so deleting either can be tried.
    git(repo.path, 'repack', '-a', '-d', '-q');
    git(repo.path, 'commit', '-q', '--allow-empty', '-m', 'loose commit');
    t = await startTestInstance({ killGraceMs: 300 });
    expect((await t.api('POST', '/repos', { name: 'app', path: repo.path })).status).toBe(201);
  });
  afterAll(async () => {
    await t.stop();
    repo.cleanup();
  });

  it('commits on its own branch, cannot change config, hooks, main or existing objects', async () => {
    const main = git(repo.path, 'rev-parse', 'main');
    const config = readFileSync(join(gitDir, 'config'), 'utf8');
    const objects = fingerprint(join(gitDir, 'objects'));
    const hooks = readdirSync(join(gitDir, 'hooks')).sort();
    const packs = readdirSync(join(gitDir, 'objects', 'pack'));
    expect(packs.some((p) => p.endsWith('.pack'))).toBe(true);

    const attempts: Record<string, string> = {
      writeConfig: `printf '[core]\\n\\thooksPath = /tmp/evil\\n' >> ${shq(join(gitDir, 'config'))} && grep -q evil ${shq(join(gitDir, 'config'))} && test -s ${shq(join(gitDir, 'HEAD'))}`,
      writeHook: `printf '#!/bin/sh\\ntouch /tmp/pwned\\n' > ${shq(join(gitDir, 'hooks', 'post-checkout'))} && test -e ${shq(join(gitDir, 'hooks', 'pre-commit.sample'))}`,
      deletePack: `rm -f ${shq(join(gitDir, 'objects', 'pack'))}/*.pack && ! ls ${shq(join(gitDir, 'objects', 'pack'))}/*.pack`,
      deleteObject: `rm -rf ${shq(join(gitDir, 'objects'))}/[0-9a-f][0-9a-f] && ! ls -d ${shq(join(gitDir, 'objects'))}/[0-9a-f][0-9a-f]`,
    };
    const script = [
      'set -u',
      'echo committed > own.txt && git add own.txt && git commit -qm "agent commit" && echo COMMITTED',
      'git checkout -q -b side && git checkout -q - && echo BRANCHED',
      'echo stashed > st.txt && git add st.txt && git stash -q && git stash pop -q && echo STASHED',
      'git log --oneline main..HEAD | grep -q "agent commit" && echo LOGGED',
      // Moving main: in its private git dir these "work", and must change nothing real.
      'git update-ref refs/heads/main HEAD; git push -q . HEAD:main; git config core.fsmonitor "touch /tmp/pwned"',
      attackScript(attempts),
      'echo dirty > uncommitted.txt',
    ].join('\n');
    const agent = await waitForState(t, (await spawnCommand(t, script, { taskId: 'gitter' })).id);
    expect(agent.state).toBe('completed');
    expect(agent.sandbox).toBe('bubblewrap');
    const lines = (await t.api<{ lines: string[] }>('GET', `/agents/${agent.id}/logs`)).body.lines;
    for (const step of ['COMMITTED', 'BRANCHED', 'STASHED', 'LOGGED']) expect(lines).toContain(step);

    // Whatever the script printed, the real repository is what decides.
    expect(git(repo.path, 'rev-parse', 'main')).toBe(main);
    expect(readFileSync(join(gitDir, 'config'), 'utf8')).toBe(config);
    expect(readdirSync(join(gitDir, 'hooks')).sort()).toEqual(hooks);
    const after = fingerprint(join(gitDir, 'objects'));
    for (const [path, hash] of objects) expect(after.get(path), path).toBe(hash);
    expect(existsSync('/tmp/pwned')).toBe(false);
    expect(attackOutcome(lines).leaked).toEqual([]);
    git(repo.path, 'fsck', '--no-progress');

    // Its commit and the snapshot of its uncommitted work are on its branch.
    const subjects = git(repo.path, 'log', '--format=%s', `main..${agent.branch}`).split('\n');
    expect(subjects[0]).toMatch(/^mosaic: snapshot/);
    expect(subjects).toContain('agent commit');
    const files = git(repo.path, 'diff', '--name-only', `main...${agent.branch}`).split('\n').sort();
    expect(files).toEqual(['own.txt', 'st.txt', 'uncommitted.txt']);
    expect(agent.result).toMatchObject({ commitsAhead: 2 });
  });

  it('the diff of a running sandboxed agent shows its committed and uncommitted work', async () => {
    const spawned = await spawnCommand(t, 'echo one > c1.txt && git add c1.txt && git commit -qm c1 && echo two > c2.txt && touch READY && sleep 30', { taskId: 'live' });
    const running = await waitForState(t, spawned.id, ['running']);
    await waitFor(() => existsSync(join(running.worktreePath, 'READY')), { timeoutMs: 15_000 });
    const diff = await t.api<string>('GET', `/agents/${spawned.id}/diff`);
    expect(diff.status).toBe(200);
    expect(diff.body).toContain('+one');
    expect(diff.body).toContain('+two');
    await t.api('POST', `/agents/${spawned.id}/kill`);
    const ended = await waitForState(t, spawned.id);
    expect(ended.state).toBe('killed');
    expect(git(repo.path, 'log', '--format=%s', `main..${ended.branch}`)).toContain('c1');
  });
});
