import { describe, expect, it } from 'vitest';
import { allowedFor } from './actions';
import { radarStatus } from './radar';
import type { Agent, RepoConflicts } from './types';

const agent = (over: Partial<Agent>): Agent => ({
  id: 'a1', state: 'completed', taskId: 't', type: 'worker', repo: 'app', branch: 'b', baseBranch: 'main', runtime: { kind: 'command', argv: ['true'] },
  priority: 5, origin: 'local', exitCode: 0, error: null, result: { commitsAhead: 1 }, progress: null, killRequested: false,
  createdAt: 1, startedAt: 1, endedAt: 2, landed: null, ...over,
});

describe('what the Review view offers and says', () => {
  it('offers Land only for finished work not landed and with commits; Retry only for agents spawned here; the rest to remote agents too', () => {
    expect(allowedFor(agent({}))).toEqual({ kill: false, land: true, retry: true, reply: true, fetch: false, discard: true });
    expect(allowedFor(agent({ landed: { commit: 'c', into: 'main', strategy: 'merge', at: 3 } })).land).toBe(false);
    expect(allowedFor(agent({ result: { commitsAhead: 0 } })).land).toBe(false);
    expect(allowedFor(agent({ state: 'running', endedAt: null }))).toEqual({ kill: true, land: false, retry: false, reply: false, fetch: false, discard: false });
    expect(allowedFor(agent({ instance: 'i', peer: 'spoke', state: 'killed' }))).toEqual({ kill: false, land: true, retry: false, reply: true, fetch: true, discard: true });
    expect(allowedFor(agent({ instance: 'i', state: 'running', orphaned: true }))).toMatchObject({ kill: false, discard: true });
    // A peer's agent that ran here is that peer's to continue (the repository is ours to land into).
    expect(allowedFor(agent({ origin: 'f'.repeat(32) }))).toMatchObject({ land: true, retry: false, reply: false, discard: true });
  });

  it('reads the radar for one agent: clean, overlaps, conflicts with whom, with its base', () => {
    const report: RepoConflicts = {
      repo: 'app',
      pairs: [{ agents: ['a1', 'b2'], paths: ['x'], conflicts: true }, { agents: ['c3', 'a1'], paths: ['y'], conflicts: false }, { agents: ['c3', 'd4'], paths: ['z'] }],
      base: [{ agent: 'd4', paths: ['z'] }],
    };
    expect(radarStatus(agent({}), report)).toEqual({ kind: 'conflicts', with: ['b2'], base: false, paths: ['x'] });
    expect(radarStatus(agent({ id: 'c3' }), report)).toEqual({ kind: 'overlaps', with: ['a1', 'd4'], paths: ['y', 'z'] });
    expect(radarStatus(agent({ id: 'd4' }), report)).toEqual({ kind: 'conflicts', with: [], base: true, paths: ['z'] });
    expect(radarStatus(agent({ id: 'e5' }), report)).toEqual({ kind: 'clean' });
    expect(radarStatus(agent({}), undefined)).toEqual({ kind: 'unknown' });
    expect(radarStatus(agent({ instance: 'i' }), report)).toEqual({ kind: 'remote' });
  });
});
