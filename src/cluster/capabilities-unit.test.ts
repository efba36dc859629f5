import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir } from '../test-support/index.js';
import { makeTestRepo } from '../test-support/test-repo.js';
import { cannotServe, canServe, reposHere, runtimesHere } from './capabilities.js';

describe('what a node serves', () => {
  it('runtimes: command always, the others when their binary is an executable file (a path, or a name on PATH)', () => {
    const dir = makeTempDir();
    const bin = join(dir.path, 'bin');
    mkdirSync(bin);
    for (const name of ['codex', 'notexec']) writeFileSync(join(bin, name), '#!/bin/sh\n');
    chmodSync(join(bin, 'codex'), 0o755);
    mkdirSync(join(bin, 'gemini')); // a directory named like the binary is not one
    const config = { claudeBin: join(bin, 'notexec'), codexBin: 'codex', geminiBin: 'gemini', opencodeBin: '/nonexistent/opencode' };
    try {
      expect(runtimesHere(config, `relative:${bin}`)).toEqual(['codex', 'command']);
    } finally {
      dir.cleanup();
    }
  });

  it('repositories: by URL everywhere, by path where the path is a git repository here', () => {
    const repo = makeTestRepo();
    try {
      const caps = reposHere([
        { name: 'here', path: repo.path }, { name: 'gone', path: join(repo.dir, 'nothing') },
        { name: 'web', path: '/nonexistent/repos/web', url: 'https://example.com/web.git' },
      ]);
      expect(caps).toEqual({ repos: ['here', 'web'], reposMissing: ['gone'] });
      const node = { runtimes: ['command'], ...caps };
      expect(canServe(node, { runtime: 'command', repo: 'here' })).toBe(true);
      expect(cannotServe(node, { runtime: 'claude', repo: 'here' })).toBe(true);
      expect(cannotServe(node, { runtime: 'command', repo: 'gone' })).toBe(true);
      // A repository registered after the node last looked: not known to be unservable.
      expect(cannotServe(node, { runtime: 'command', repo: 'new' })).toBe(false);
    } finally {
      repo.cleanup();
    }
  });
});
