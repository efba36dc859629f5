import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from './detect.js';
import { removeTree } from './hostile-fs.js';

/**
 * Read-only shared directories with a private writable layer, for a
 * sandboxed process (the `overlay` mode of `shareDirs`).
 *
 * bubblewrap 0.8 cannot mount an overlay itself (`--overlay-src` came in
 * 0.9), so the sandbox's argv is wrapped: `unshare` makes a mount namespace
 * (and, for a normal user, a user namespace in which the user may mount an
 * overlay: Linux >= 5.11), a tiny `sh` script mounts one overlay per shared
 * directory at its place in the worktree, then `exec`s bwrap, which inherits
 * the mounts (its `--bind <worktree>` is recursive). The mounts exist only in
 * that process tree: the host, the main checkout and every other agent see
 * the worktree's directory as the empty mount point it is on disk.
 *
 * Each layer directory holds `lower` (a symlink to the read-only shared
 * snapshot), `upper` and `work`; the mount options name them relative to the
 * layer directory (the script `cd`s there), so no host path is ever parsed
 * as a mount option (paths with `,` or `:` would be).
 *
 * As root the user namespace is left out (its only mapping would be 0 → 0
 * and files of other owners would turn unwritable); as a normal user bwrap
 * then runs as the namespace's root and is told to map the user back
 * (`--unshare-user --uid U --gid G`), so the agent keeps its own uid.
 */
export interface OverlayMount {
  /** Where the overlay goes: an existing (empty) directory in the worktree. */
  target: string;
  /** Holds `lower` (symlink to the shared snapshot), `upper` and `work`. */
  layerDir: string;
}

export type OverlaySupport =
  | { available: true; unshare: string; mount: string; sh: string; root: boolean; uid: number; gid: number }
  | { available: false; reason: string };

/** Mounts each (layer dir, target) pair given before `--`, then execs the rest. */
const MOUNT_SCRIPT = [
  'while [ "$1" != "--" ]; do',
  '  cd "$1" && mount -t overlay mosaic-share -o lowerdir=lower,upperdir=upper,workdir=work "$2"'
    + ' || { echo "mosaic: could not mount the shared directory $2" >&2; exit 125; }',
  '  shift 2',
  'done',
  'shift',
  'cd /',
  'exec "$@"',
].join('\n');

/** The argv that mounts `mounts` and then runs `bwrapArgv` (a full bwrap argv, bwrap first). */
export function overlayArgv(support: Extract<OverlaySupport, { available: true }>, mounts: readonly OverlayMount[], bwrapArgv: string[]): string[] {
  const [bwrap, ...rest] = bwrapArgv;
  if (bwrap === undefined) throw new Error('empty sandbox argv');
  const unshare = support.root
    ? [support.unshare, '--mount', '--propagation', 'private']
    : [support.unshare, '--user', '--map-root-user', '--mount', '--propagation', 'private'];
  const userBack = support.root ? [] : ['--unshare-user', '--uid', String(support.uid), '--gid', String(support.gid)];
  const pairs = mounts.flatMap((m) => [m.layerDir, m.target]);
  return [...unshare, '--', support.sh, '-c', MOUNT_SCRIPT, 'mosaic-share', ...pairs, '--', bwrap, ...userBack, ...rest];
}

/** Makes a layer directory over `lower` (the shared snapshot): `lower` link, empty `upper` and `work`. */
export function makeLayer(layerDir: string, lower: string): void {
  mkdirSync(join(layerDir, 'upper'), { recursive: true, mode: 0o700 });
  mkdirSync(join(layerDir, 'work'), { recursive: true, mode: 0o700 });
  if (!existsSync(join(layerDir, 'lower'))) symlinkSync(lower, join(layerDir, 'lower'));
}

const cache = new Map<string, OverlaySupport>();

/**
 * Whether an overlay can be mounted under a sandbox here, found by doing it
 * once (per bwrap binary and scratch directory) for real: mount a layer in
 * `scratch`, run bwrap in it, read the lower file, write, delete, and check
 * on the host that the lower is untouched and the writes went to the upper.
 */
export function probeOverlay(bwrap: string, scratch: string, path: string | undefined = process.env.PATH): OverlaySupport {
  const key = `${bwrap}\0${scratch}\0${path ?? ''}`;
  const known = cache.get(key);
  if (known) return known;
  const support = runProbe(bwrap, scratch, path);
  cache.set(key, support);
  return support;
}

function runProbe(bwrap: string, scratch: string, path: string | undefined): OverlaySupport {
  if (process.platform !== 'linux') return { available: false, reason: `no overlay mounts on ${process.platform}` };
  const tools = { unshare: findExecutable('unshare', path), mount: findExecutable('mount', path), sh: findExecutable('sh', path) };
  for (const [name, found] of Object.entries(tools)) {
    if (found === null) return { available: false, reason: `${name} (util-linux) not found on PATH` };
  }
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  const candidate = { available: true as const, unshare: tools.unshare!, mount: tools.mount!, sh: tools.sh!, root: uid === 0, uid, gid };
  let dir: string | null = null;
  try {
    mkdirSync(scratch, { recursive: true, mode: 0o700 });
    dir = mkdtempSync(join(scratch, '.overlay-probe-'));
    const lower = join(dir, 'snapshot');
    const target = join(dir, 'target');
    mkdirSync(lower);
    mkdirSync(target);
    writeFileSync(join(lower, 'shared'), 'probe\n');
    makeLayer(join(dir, 'layer'), lower);
    const argv = overlayArgv(candidate, [{ target, layerDir: join(dir, 'layer') }], [bwrap, '--die-with-parent', '--unshare-pid',
      '--cap-drop', 'ALL', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--bind', target, target, '--chdir', target,
      '--', candidate.sh, '-c', 'cat shared && echo private > written && rm shared']);
    const run = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 15_000, env: { PATH: path ?? '' } });
    const problem = run.error?.message ?? (run.status !== 0 ? `exit ${run.status ?? run.signal}: ${run.stderr.trim()}` : null);
    if (problem !== null) return { available: false, reason: `an overlay under the sandbox does not work here (${problem})` };
    const isolated = run.stdout.includes('probe') && readFileSync(join(lower, 'shared'), 'utf8') === 'probe\n'
      && !existsSync(join(lower, 'written')) && existsSync(join(dir, 'layer', 'upper', 'written'));
    return isolated ? candidate : { available: false, reason: 'an overlay under the sandbox did not keep writes private' };
  } catch (err) {
    return { available: false, reason: `overlay probe failed: ${(err as Error).message}` };
  } finally {
    if (dir !== null) removeTree(dir);
  }
}
