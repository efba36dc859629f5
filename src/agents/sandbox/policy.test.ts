import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bwrapArgv } from './bwrap.js';
import { buildPolicy } from './policy.js';

/**
 * A program installed under /tmp (a checkout cloned there, as CI often does)
 * must still run inside the sandbox, whose /tmp is a private, empty one.
 */
describe('sandbox policy: programs under /tmp', () => {
  const base = mkdtempSync('/tmp/mosaic-policy-');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('binds a program that lives under /tmp back (the file alone, read-only), and it runs', () => {
    const bin = join(base, 'install', 'bin');
    mkdirSync(bin, { recursive: true });
    const program = join(bin, 'hello-agent');
    writeFileSync(program, '#!/bin/sh\necho hello from $(basename "$0")\n');
    chmodSync(program, 0o755);
    const worktree = join(base, 'wt');
    mkdirSync(worktree);
    const policy = buildPolicy({
      worktree, boxDir: join(base, 'box'), git: null, mosaicHome: join(base, 'home'), repoPaths: [],
      network: 'host', programs: [program], path: process.env.PATH, claudeLogin: false,
    });
    expect(policy.readOnly).toEqual([program]);
    const run = spawnSync(bwrapArgv('bwrap', policy, [program])[0] as string, bwrapArgv('bwrap', policy, [program]).slice(1), { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('hello from hello-agent');
    // Nothing else of the host's /tmp shows through.
    const listing = spawnSync('bwrap', bwrapArgv('bwrap', policy, ['ls', '-a', base]).slice(1), { encoding: 'utf8' });
    expect(listing.stdout.split('\n').filter((name) => name !== '' && name !== '.' && name !== '..').sort()).toEqual(['install', 'wt']);
  });
});
