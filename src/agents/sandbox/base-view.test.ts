import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, spawnCommand, waitForState } from '../../test-support/agents.js';
import { spawnRemote, startPair, type Pair } from '../../test-support/federation.js';
import { sandboxAvailable } from '../../test-support/sandbox.js';
import { waitFor } from '../../test-support/wait.js';
import type { PublicAgent } from '../public.js';

/** What the agent's git can see, written to probe.txt and committed (the test reads it from its branch). */
const probe = (blob: string, base: string): string => [
  `if git cat-file -e ${blob} 2>/dev/null; then echo "other: visible"; else echo "other: hidden"; fi > probe.txt`,
  `if git cat-file --batch-all-objects --batch-check 2>/dev/null | grep -q ${blob}; then echo "listed: yes"; else echo "listed: no"; fi >> probe.txt`,
  `echo "base: $(git cat-file -t ${base})" >> probe.txt`,
  `git for-each-ref --format='ref: %(refname)' >> probe.txt`,
  'git add probe.txt && git commit -qm probe',
].join('; ');

/**
 * Issue 16, test 5 ("Peers see only their base"): a peer's agent gets a git
 * view holding only the objects reachable from the commit it starts on, so it
 * cannot read another agent's work; a local agent keeps the shared view.
 */
describe.runIf(sandboxAvailable())('a peer\'s agent sees only its base', () => {
  let pair: Pair;
  let blob: string;
  let base: string;

  beforeAll(async () => {
    pair = await startPair({ spokeConfig: { sandbox: 'required' } });
    // Another agent's work on the spoke: a blob only its branch has.
    const other = await spawnCommand(pair.spoke, 'echo "only on the other branch $MOSAIC_AGENT_ID" > secret.txt && git add secret.txt && git commit -qm secret',
      { repo: 'web', taskId: 'other' });
    const done = await waitForState(pair.spoke, other.id, undefined, 60_000);
    expect(done.state).toBe('completed');
    blob = git(pair.repo.path, 'rev-parse', `${done.branch}:secret.txt`);
    base = git(pair.repo.path, 'rev-parse', 'main');
  }, 120_000);
  afterAll(() => pair.stop());

  const probeOf = (agent: PublicAgent): string => git(pair.repo.path, 'show', `${agent.branch}:probe.txt`);

  it('a peer\'s agent cannot cat-file an object only another agent\'s branch has', async () => {
    const spawned = await spawnRemote(pair.hub, probe(blob, base), { taskId: 'peerprobe' });
    expect(spawned.status).toBe(202);
    let here: PublicAgent | undefined;
    await waitFor(async () => {
      here = (await pair.spoke.api<{ agents: PublicAgent[] }>('GET', '/agents')).body.agents.find((a) => a.taskId === 'peerprobe');
      return here !== undefined && ['completed', 'failed', 'killed'].includes(here.state);
    }, { timeoutMs: 90_000, what: 'the peer\'s agent to end on the spoke' });
    expect(here!.state, JSON.stringify(here!.error)).toBe('completed');
    const seen = probeOf(here!);
    expect(seen).toContain('other: hidden');
    expect(seen).toContain('listed: no');
    expect(seen).toContain('base: commit');
    // Among the refs, only its own branch: no other agent's branch name or tip.
    expect(seen.split('\n').filter((line) => line.startsWith('ref: '))).toEqual([`ref: refs/heads/${here!.branch}`]);
  }, 120_000);

  it('a local agent keeps the shared read-only view', async () => {
    const local = await waitForState(pair.spoke, (await spawnCommand(pair.spoke, probe(blob, base), { repo: 'web', taskId: 'localprobe' })).id, undefined, 60_000);
    expect(local.state).toBe('completed');
    expect(probeOf(local)).toContain('other: visible');
  }, 120_000);
});
