import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

/** Issue 16, "Bind-backs never re-expose": a policy whose bind-back contains a hidden path is refused. */
describe('sandbox policy: conflicts', () => {
  const base = mkdtempSync('/tmp/mosaic-policy-');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('refuses a bind-back that contains $MOSAIC_HOME (an alternates entry naming its parent), naming both paths', () => {
    const mosaicHome = join(base, 'share', 'mosaic');
    mkdirSync(mosaicHome, { recursive: true });
    const worktree = join(base, 'wt');
    mkdirSync(worktree);
    const git = { gitDir: join(base, 'box', 'gitdir'), dotGitFile: join(base, 'box', 'dotgit'), objectsDir: join(base, 'objects'), alternateDirs: [join(base, 'share')] };
    let caught: unknown;
    try {
      buildPolicy({
        worktree, boxDir: join(base, 'box'), git, mosaicHome, repoPaths: [], network: 'host', programs: [], path: process.env.PATH, claudeLogin: false,
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'sandbox_policy_conflict' });
    expect((caught as Error).message).toContain(`${join(base, 'share')} contains ${mosaicHome}`);
  });

  it('never binds a program\'s parent that holds a hidden path: the file alone, and a link of the name it was found under', () => {
    // <home>/.local/bin/tool -> <home>/.local/share/tool/versions/1, with $MOSAIC_HOME at <home>/.local/share/mosaic.
    const home = join(base, 'user');
    const versions = join(home, '.local', 'share', 'tool', 'versions');
    mkdirSync(versions, { recursive: true });
    mkdirSync(join(home, '.local', 'bin'), { recursive: true });
    const mosaicHome = join(home, '.local', 'share', 'mosaic');
    mkdirSync(mosaicHome, { recursive: true });
    writeFileSync(join(versions, '1'), '#!/bin/sh\necho tool ran\n', { mode: 0o755 });
    symlinkSync(join(versions, '1'), join(home, '.local', 'bin', 'tool'));
    const worktree = join(base, 'wt2');
    mkdirSync(worktree);
    const policy = buildPolicy({
      worktree, boxDir: join(base, 'box2'), git: null, mosaicHome, repoPaths: [], network: 'host',
      programs: [join(home, '.local', 'bin', 'tool')], path: process.env.PATH, claudeLogin: false,
    });
    expect(policy.readOnly).toEqual([join(versions, '1')]);
    expect(policy.symlinks).toEqual([]); // under /tmp (the private one): made in the private tmp instead
    const argv = bwrapArgv('bwrap', policy, [join(home, '.local', 'bin', 'tool')]);
    const run = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' });
    expect(run.stdout.trim()).toBe('tool ran');
    const look = bwrapArgv('bwrap', policy, ['sh', '-c', `ls ${join(home, '.local', 'share')}; test -e ${mosaicHome} && echo MOSAIC-HOME-VISIBLE; true`]);
    expect(spawnSync(look[0] as string, look.slice(1), { encoding: 'utf8' }).stdout.trim()).toBe('tool');
  });
});
