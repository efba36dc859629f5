import { existsSync, lstatSync } from 'node:fs';
import { join, sep } from 'node:path';
import { MosaicError } from '../../core/errors.js';
import { asUserArgv, type AgentUser } from './agent-user.js';

/** Everything one sandboxed process may see and do; built by policy.ts, turned into bwrap flags here. */
export interface SandboxPolicy {
  /** The agent's worktree: read-write, and the working directory. */
  worktree: string;
  /** Private writable HOME, bound at `home` (the user's real HOME path, so tools find their files). */
  homeSource: string;
  home: string;
  /** Private writable tmp, bound at /tmp. */
  tmpSource: string;
  /** Hidden behind an empty tmpfs (directories) or /dev/null (other files): $MOSAIC_HOME, HOME, repositories, sockets. */
  hidden: string[];
  /** Bound back read-write at the same path after hiding (the private git dir). */
  writable: string[];
  /** Bound back read-only at the same path after hiding (object dirs, runtime executables and their packages). */
  readOnly: string[];
  /** Read-only file binds `[source, dest]` that may be missing (runtime credentials). */
  readOnlyFiles: [string, string][];
  /** Read-write file binds `[source, dest]` that may be missing (a login the CLI refreshes: Codex's auth.json). */
  writableFiles?: [string, string][];
  /** Symbolic links `[target, path]` made inside (a runtime's name in a hidden directory, pointing at its bound executable). */
  symlinks: [string, string][];
  /** A file bound read-only over `<worktree>/.git`, pointing git at the private git dir. */
  dotGitFile: string | null;
  network: 'host' | 'none';
  /** When Mosaic is root: the user everything inside runs as, switched to by setpriv once the mounts are made. */
  runAs: { user: AgentUser; setpriv: string } | null;
}

function isDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

export const inside = (parent: string, path: string): boolean => path === parent || path.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * Bind-backs that would show a hidden path again: a host path bound back at
 * the same place that is, or contains, something the policy hides (e.g. a
 * runtime's install prefix `~/.local` holding `$MOSAIC_HOME` at
 * `~/.local/share/mosaic`). `/tmp` counts as hidden: the sandbox has its own.
 */
export function policyConflicts(policy: SandboxPolicy): { bind: string; hidden: string }[] {
  const hidden = [...new Set([...policy.hidden, '/tmp'])];
  const binds = [...policy.readOnly, ...policy.writable, policy.worktree, ...[...policy.readOnlyFiles, ...(policy.writableFiles ?? [])].map(([, dest]) => dest)];
  const conflicts: { bind: string; hidden: string }[] = [];
  for (const bind of new Set(binds)) {
    for (const h of hidden) if (inside(bind, h)) conflicts.push({ bind, hidden: h });
  }
  return conflicts;
}

/** Throws `sandbox_policy_conflict` (the agent ends failed with it) when a bind-back contains a hidden path. */
export function assertNoConflict(policy: SandboxPolicy): void {
  const conflicts = policyConflicts(policy);
  if (conflicts.length === 0) return;
  throw new MosaicError(409, 'sandbox_policy_conflict',
    `the sandbox would bind back a path that contains a hidden one: ${conflicts.map((c) => `${c.bind} contains ${c.hidden}`).join('; ')}`,
    { conflicts });
}

/** rank 0: a cover (fresh, empty); 1: a private replacement (/tmp, HOME); 2: a bind or link. */
type Mount = { path: string; rank: number; args: string[] };
const depth = (path: string): number => path.split('/').filter((p) => p !== '').length;

function ancestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/**
 * The mounts' args, each preceded by the directories its path needs inside
 * a cover or a private replacement, made world-searchable (`--perms 0755
 * --dir`): bwrap would make them 0700 and root's, and the agent user could
 * not reach its own worktree through them. Directories under a bind-back are
 * the host's own and are left alone.
 */
function withParents(mounts: Mount[]): string[] {
  const args: string[] = [];
  const done: Mount[] = [];
  const made = new Set<string>();
  for (const mount of mounts) {
    for (const dir of ancestors(mount.path)) {
      if (made.has(dir)) continue;
      let holder: Mount | undefined;
      for (const m of done) if (inside(m.path, dir) && m.path !== dir && (holder === undefined || depth(m.path) >= depth(holder.path))) holder = m;
      if (holder === undefined || holder.rank === 2) continue;
      args.push('--perms', '0755', '--dir', dir);
      made.add(dir);
    }
    args.push(...mount.args);
    done.push(mount);
  }
  return args;
}

/**
 * The bwrap argv that runs `argv` under `policy`. bwrap applies mounts in
 * order: the whole filesystem goes in read-only first, then every cover and
 * bind in order of depth, parents before children, and at one path a cover
 * before a bind. So what is bound inside a hidden place (the private git dir
 * in `$MOSAIC_HOME`) is seen, and a hidden place inside a bind-back is
 * covered again after it: a cover is never undone by a bind of a parent.
 * (`buildPolicy` refuses such a policy anyway, `sandbox_policy_conflict`;
 * this is the second wall.)
 *
 * - new PID, IPC and UTS namespaces (no other process is visible or
 *   signalable; a fresh /proc), all capabilities dropped (as root bwrap would
 *   keep them, and CAP_SYS_ADMIN could unmount the covers), no new privileges;
 * - as root, the command runs as the agent user (setpriv, given only the
 *   capabilities to switch, which it gives up with the switch);
 * - `--die-with-parent`: the sandbox ends with the supervisor that started it,
 *   and when its first process (bwrap's init) dies the kernel kills every
 *   process in the namespace, including ones that called setsid or double-forked.
 */
export function bwrapArgv(bwrap: string, policy: SandboxPolicy, argv: string[]): string[] {
  assertNoConflict(policy);
  const args = [bwrap, '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts'];
  if (policy.network === 'none') args.push('--unshare-net');
  args.push('--cap-drop', 'ALL');
  if (policy.runAs !== null) args.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP');
  args.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc');

  const mounts: Mount[] = [];
  const bindBacks = [...policy.readOnly, ...policy.writable, policy.worktree];
  for (const path of new Set(policy.hidden)) {
    if (!existsSync(path)) continue; // nothing to hide, and no mount point can be made on the read-only root
    // Under the private /tmp and HOME nothing of the host shows anyway, unless a bind-back brings it.
    const replaced = [policy.home, '/tmp'].some((root) => path !== root && inside(root, path));
    if (replaced && !bindBacks.some((bind) => inside(bind, path))) continue;
    mounts.push({ path, rank: 0, args: isDir(path) ? ['--tmpfs', path] : ['--ro-bind', '/dev/null', path] });
  }
  mounts.push({ path: '/tmp', rank: 1, args: ['--bind', policy.tmpSource, '/tmp'] });
  mounts.push({ path: policy.home, rank: 1, args: ['--bind', policy.homeSource, policy.home] });
  for (const path of new Set(policy.readOnly)) mounts.push({ path, rank: 2, args: ['--ro-bind', path, path] });
  mounts.push({ path: policy.worktree, rank: 2, args: ['--bind', policy.worktree, policy.worktree] });
  if (policy.dotGitFile !== null) {
    const dest = join(policy.worktree, '.git');
    mounts.push({ path: dest, rank: 2, args: ['--ro-bind', policy.dotGitFile, dest] });
  }
  for (const path of new Set(policy.writable)) mounts.push({ path, rank: 2, args: ['--bind', path, path] });
  for (const [source, dest] of policy.readOnlyFiles) mounts.push({ path: dest, rank: 2, args: ['--ro-bind-try', source, dest] });
  for (const [source, dest] of policy.writableFiles ?? []) mounts.push({ path: dest, rank: 2, args: ['--bind-try', source, dest] });
  for (const [target, path] of policy.symlinks) mounts.push({ path, rank: 2, args: ['--symlink', target, path] });
  mounts.sort((a, b) => depth(a.path) - depth(b.path) || a.rank - b.rank);
  args.push(...withParents(mounts));

  const command = policy.runAs === null ? argv : asUserArgv(policy.runAs.setpriv, policy.runAs.user, argv);
  args.push('--chdir', policy.worktree, '--', ...command);
  return args;
}
