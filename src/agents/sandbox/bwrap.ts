import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

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
  /** Bound back read-only at the same path after hiding (object dirs, runtime installs). */
  readOnly: string[];
  /** Read-only file binds `[source, dest]` that may be missing (runtime credentials). */
  readOnlyFiles: [string, string][];
  /** A file bound read-only over `<worktree>/.git`, pointing git at the private git dir. */
  dotGitFile: string | null;
  network: 'host' | 'none';
}

function isDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Parents before children, so a bind made inside a hidden directory is not hidden again. */
const byDepth = (a: string, b: string): number => a.split('/').length - b.split('/').length || a.localeCompare(b);

/**
 * The bwrap argv that runs `argv` under `policy`. Order matters: bwrap
 * applies mounts in order, so the whole filesystem goes in read-only first,
 * then the hidden places are covered, then what the agent needs is bound
 * back on top.
 *
 * - new PID, IPC and UTS namespaces (no other process is visible or
 *   signalable; a fresh /proc), all capabilities dropped (as root bwrap would
 *   keep them, and CAP_SYS_ADMIN could unmount the covers), no new privileges;
 * - `--die-with-parent`: the sandbox ends with the supervisor that started it,
 *   and when its first process (bwrap's init) dies the kernel kills every
 *   process in the namespace, including ones that called setsid or double-forked.
 */
export function bwrapArgv(bwrap: string, policy: SandboxPolicy, argv: string[]): string[] {
  const args = [bwrap, '--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts'];
  if (policy.network === 'none') args.push('--unshare-net');
  args.push('--cap-drop', 'ALL', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc');
  for (const path of [...new Set(policy.hidden)].sort(byDepth)) {
    if (!existsSync(path)) continue; // nothing to hide, and no mount point can be made on the read-only root
    if (isDir(path)) args.push('--tmpfs', path);
    else args.push('--ro-bind', '/dev/null', path);
  }
  args.push('--bind', policy.tmpSource, '/tmp');
  args.push('--bind', policy.homeSource, policy.home);
  for (const path of [...new Set(policy.readOnly)].sort(byDepth)) args.push('--ro-bind', path, path);
  args.push('--bind', policy.worktree, policy.worktree);
  if (policy.dotGitFile !== null) args.push('--ro-bind', policy.dotGitFile, join(policy.worktree, '.git'));
  for (const path of [...new Set(policy.writable)].sort(byDepth)) args.push('--bind', path, path);
  for (const [source, dest] of policy.readOnlyFiles) args.push('--ro-bind-try', source, dest);
  args.push('--chdir', policy.worktree, '--', ...argv);
  return args;
}
