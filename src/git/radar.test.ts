import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestRepo, type TestRepo } from '../test-support/test-repo.js';
import { ConflictRadar, probeCommit, type RadarAgent } from './radar.js';

/** 40 lines; agent i edits line 2*i (a line apart, so their edits merge cleanly). */
const LINES = Array.from({ length: 40 }, (_, i) => `line ${i}`);

describe('ConflictRadar', () => {
  let repo: TestRepo;
  const rev = (ref: string): string => repo.git(['rev-parse', ref]).trim();
  /** Branches off main editing lines of files (each file starts as LINES), all made by one `git fast-import`. */
  const makeBranches = (branches: Record<string, Record<string, Record<number, string>>>): Record<string, string> => {
    const base = rev('main');
    let stream = '';
    const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
    for (const [name, edits] of Object.entries(branches)) {
      stream += `commit refs/heads/${name}\ncommitter T <t@example.invalid> 1000000000 +0000\n${data(name)}from ${base}\n`;
      for (const [file, lineEdits] of Object.entries(edits)) {
        const lines = [...LINES];
        for (const [i, text] of Object.entries(lineEdits)) lines[Number(i)] = text;
        stream += `M 100644 inline ${file}\n${data(`${lines.join('\n')}\n`)}`;
      }
      stream += '\n';
    }
    execFileSync('git', ['fast-import', '--quiet'], { cwd: repo.path, input: stream });
    return Object.fromEntries(Object.keys(branches).map((name) => [name, rev(`refs/heads/${name}`)]));
  };
  const branchEditing = (name: string, edits: Record<string, Record<number, string>>): string => makeBranches({ [name]: edits })[name] ?? '';

  beforeAll(() => {
    repo = makeTestRepo();
    repo.write('shared.txt', `${LINES.join('\n')}\n`);
    for (let i = 0; i < 20; i++) repo.write(`own-${i}.txt`, `${LINES.join('\n')}\n`);
    repo.commitAll('shared');
  });
  afterAll(() => repo.cleanup());

  it('finds the conflicting pair, the clean overlaps, nothing for disjoint work; one changed agent costs < 20 merges of 20', async () => {
    const base = rev('main');
    const agents: RadarAgent[] = [];
    // Agent i edits line 2 of its own file: nobody overlaps, so nothing needs merging.
    const made = makeBranches(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`r${i}`, { [`own-${i}.txt`]: { 2: `agent ${i}` } }])));
    for (let i = 0; i < 20; i++) agents.push({ id: `a${i}`, commit: made[`r${i}`] ?? '', base });
    const radar = new ConflictRadar(repo.path);
    const first = await radar.refresh(agents);
    expect(first).toEqual({ pairs: [], base: [] });
    expect(radar.merges).toBe(0);

    // Agent 5 changes the worst way: it now touches every other agent's file (line 30, far from their
    // edit) and agent 6's very line. Every pair with agent 5 must be merged again; nothing else.
    const edits: Record<string, Record<number, string>> = {};
    for (let i = 0; i < 20; i++) edits[`own-${i}.txt`] = { 30: 'agent 5 was here' };
    edits['own-5.txt'] = { 2: 'agent 5' };
    edits['own-6.txt'] = { 2: 'agent 5 took this line', 30: 'agent 5 was here' };
    agents[5] = { id: 'a5', commit: branchEditing('r5b', edits), base };
    const before = radar.merges;
    const after = await radar.refresh(agents);
    const cost = radar.merges - before;
    expect(cost).toBe(19);
    expect(cost).toBeLessThan(20);
    expect(after.pairs).toHaveLength(19);
    expect(after.pairs.filter((p) => p.conflicts).map((p) => [p.agents, p.paths])).toEqual([[['a5', 'a6'], ['own-6.txt']]]);
    expect(after.pairs.every((p) => p.agents.includes('a5'))).toBe(true);
    // Unchanged input: nothing recomputed at all.
    const again = radar.merges;
    expect(await radar.refresh(agents)).toEqual(after);
    expect(radar.merges).toBe(again);
  });

  it('reports agents that conflict with the moved base, and running work through a probe commit', async () => {
    const base0 = rev('main');
    const clash = branchEditing('clash', { 'shared.txt': { 30: 'agent version' } });
    const apart = branchEditing('apart', { 'apart.txt': {} });
    const lines = [...LINES];
    lines[30] = 'main version';
    repo.write('shared.txt', `${lines.join('\n')}\n`);
    const moved = repo.commitAll('main edits line 30');
    const radar = new ConflictRadar(repo.path);
    const report = await radar.refresh([{ id: 'clash', commit: clash, base: moved }, { id: 'apart', commit: apart, base: moved }]);
    expect(report.base).toEqual([{ agent: 'clash', paths: ['shared.txt'] }]);
    expect(report.pairs).toEqual([]);

    // Uncommitted work as a probe commit: the same state always gives the same commit.
    const tree = repo.git(['rev-parse', `${apart}^{tree}`]).trim();
    const p1 = await probeCommit(repo.path, base0, tree);
    expect(await probeCommit(repo.path, base0, tree)).toBe(p1);
    const withProbe = await radar.refresh([{ id: 'clash', commit: clash, base: moved }, { id: 'live', commit: p1, base: moved }]);
    expect(withProbe.pairs).toEqual([]);
  });
});
