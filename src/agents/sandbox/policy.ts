import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { MosaicError } from '../../core/errors.js';
import type { PrivateGitDir } from '../../git/index.js';
import type { AgentUser } from './agent-user.js';
import { assertNoConflict, inside, type SandboxPolicy } from './bwrap.js';
import { findExecutable } from './detect.js';

export interface PolicyInput {
  worktree: string;
  /** The agent's private directory (`$MOSAIC_HOME/agents/<id>/sandbox`): home, tmp, git. */
  boxDir: string;
  git: PrivateGitDir | null;
  /** $MOSAIC_HOME. */
  mosaicHome: string;
  /** Every registered repository's path (each hidden with its `_worktrees` root). */
  repoPaths: string[];
  network: 'host' | 'none';
  /** Programs the sandbox must be able to run although they live in a hidden place (argv[0], node). */
  programs: string[];
  /** PATH used to find `programs`. */
  path: string | undefined;
  /** Allow-list Claude Code's login (read-only) into the private HOME. */
  claudeLogin: boolean;
  /** Other runtimes' login files, relative to HOME: read-only, or read-write when the CLI refreshes them (Codex). */
  credentials?: readonly { path: string; writable?: boolean }[];
  /** As root: the user inside, and the setpriv that switches to it. */
  runAs?: SandboxPolicy['runAs'];
}

/** Docker and similar daemons' sockets: connecting to one needs no write access to the (read-only) filesystem. */
const DAEMON_SOCKETS = ['/run/docker.sock', '/var/run/docker.sock', '/run/podman/podman.sock', '/run/containerd/containerd.sock'];

function real(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

/**
 * What no sandboxed process may see, nor run a program from: `$MOSAIC_HOME`
 * (token, key, store, other agents), every registered repository and its
 * worktrees (the agent's own worktree is bound back), the user's runtime dir
 * (agent sockets) and container daemon sockets. HOME is hidden too but
 * replaced by a private one, and runtimes installed there are bound back.
 */
export function secretPaths(mosaicHome: string, repoPaths: readonly string[], uid = process.getuid?.()): string[] {
  const paths = [mosaicHome, real(mosaicHome)];
  for (const repo of repoPaths) paths.push(repo, `${repo}_worktrees`, real(repo), `${real(repo)}_worktrees`);
  if (uid !== undefined) paths.push(`/run/user/${uid}`);
  paths.push(...DAEMON_SOCKETS);
  return [...new Set(paths)];
}

/**
 * The secret path `program` resolves into (by name on `path`, or as a path
 * from `cwd`, the agent's worktree), or null. The worktree itself lies in a
 * hidden `_worktrees` root but is the agent's own: a program there is not hidden.
 */
export function hiddenRuntime(program: string, path: string | undefined, cwd: string, secrets: readonly string[]): string | null {
  const found = findExecutable(program, path, cwd);
  if (found === null) return null;
  for (const file of [found, real(found)]) {
    if (inside(cwd, file) || inside(real(cwd), file)) continue;
    if (secrets.some((s) => inside(s, file))) return file;
  }
  return null;
}

/** Throws `runtime_hidden` for the first of `programs` that lives in a secret path. */
export function assertProgramsVisible(programs: readonly string[], path: string | undefined, cwd: string, secrets: readonly string[]): void {
  for (const program of programs) {
    const file = hiddenRuntime(program, path, cwd, secrets);
    if (file !== null) throw runtimeHidden(program, file);
  }
}

/** `400 runtime_hidden`: the program lives where the sandbox hides things, and binding it back would show them. */
export function runtimeHidden(program: string, file: string): MosaicError {
  return new MosaicError(400, 'runtime_hidden', `${program} resolves to ${file}, inside a path the sandbox hides ($MOSAIC_HOME or a repository); install it elsewhere`, { program, path: file });
}

/**
 * The package a program needs with it: the `node_modules/<name>` (or
 * `node_modules/@scope/<name>`) directory holding it, or the Python venv
 * whose `bin/` it is in. Null for anything else: then the file alone is
 * bound (a native executable, such as Claude Code's, is self-contained).
 */
function packageDirOf(file: string): string | null {
  const parts = file.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at >= 0) {
    const end = at + (parts[at + 1]?.startsWith('@') ? 3 : 2);
    const dir = parts.slice(0, end).join(sep);
    if (parts.length > end && !parts[at + 1]?.startsWith('.') && existsSync(join(dir, 'package.json'))) return dir;
  }
  const prefix = dirname(dirname(file));
  if (dirname(file).endsWith(`${sep}bin`) && existsSync(join(prefix, 'pyvenv.cfg'))) return prefix;
  return null;
}

/**
 * The binds that make programs living under a hidden directory runnable:
 * the executable itself (or its package directory) read-only at its real
 * path, and, where it was found under another name (a link such as
 * `~/.local/bin/claude` → `~/.local/share/claude/versions/x`), a link of that
 * name. Never a parent beyond the package: a package directory that would
 * contain a hidden path is given up for the bare file.
 */
function programBinds(programs: string[], path: string | undefined, cwd: string, hidden: string[]): { readOnly: string[]; symlinks: [string, string][] } {
  const isHidden = (file: string): boolean => hidden.some((h) => inside(h, file));
  const exposes = (dir: string): boolean => hidden.some((h) => inside(dir, h));
  const readOnly: string[] = [];
  const links: [string, string][] = [];
  for (const program of programs) {
    const found = findExecutable(program, path, cwd);
    if (found === null) continue;
    const target = real(found);
    if (!isHidden(found) && !isHidden(target)) continue;
    for (const file of new Set([found, target])) {
      // The worktree (in a hidden `_worktrees` root) is bound back whole: a program in it needs nothing more.
      if (!isHidden(file) || inside(cwd, file) || inside(real(cwd), file)) continue;
      const pkg = packageDirOf(file);
      if (pkg !== null && !exposes(pkg)) readOnly.push(pkg);
      else if (file === target) readOnly.push(target);
      else links.push([target, found]);
    }
  }
  // A link inside a bound package is already there (and the read-only bind could not take a new one).
  const symlinks = links.filter(([, at]) => !readOnly.some((dir) => inside(dir, at)));
  return { readOnly, symlinks };
}

/**
 * Links whose place lies in the private HOME or tmp are made there, on the
 * host (before anything of the agent ran in them): bwrap cannot make a link
 * where one already is, and those directories outlive one sandbox (the
 * setup's, then the runtime's). The others are left for bwrap to make.
 */
function placeLinks(links: [string, string][], replaced: [string, string][]): [string, string][] {
  const left: [string, string][] = [];
  for (const [target, at] of links) {
    const root = replaced.find(([dest]) => at !== dest && inside(dest, at));
    if (root === undefined) {
      left.push([target, at]);
      continue;
    }
    const hostPath = join(root[1], relative(root[0], at));
    mkdirSync(dirname(hostPath), { recursive: true, mode: 0o755 });
    const there = lstatSync(hostPath, { throwIfNoEntry: false });
    if (there?.isSymbolicLink() && readlinkSync(hostPath) === target) continue;
    if (there === undefined) symlinkSync(target, hostPath);
  }
  return left;
}

/**
 * What one agent's sandbox allows. Hidden: the secret paths (above) and the
 * user's HOME (replaced by a private one); bound back: the worktree, the
 * private git dir, the repository's objects, and runtime executables. Throws
 * `sandbox_policy_conflict` when a bind-back would contain a hidden path.
 */
export function buildPolicy(input: PolicyInput): SandboxPolicy {
  const home = homedir();
  const homeSource = join(input.boxDir, 'home');
  const tmpSource = join(input.boxDir, 'tmp');
  mkdirSync(homeSource, { recursive: true, mode: 0o700 });
  mkdirSync(tmpSource, { recursive: true, mode: 0o1777 });

  const hidden = [home, real(home), ...secretPaths(input.mosaicHome, input.repoPaths)];
  const readOnly: string[] = [];
  const writable: string[] = [];
  if (input.git) {
    readOnly.push(input.git.objectsDir, ...input.git.alternateDirs);
    writable.push(input.git.gitDir);
  }
  // /tmp is replaced by the agent's private one, so a program installed under it (a checkout in /tmp, as
  // CI clones often are) is bound back like one under a hidden directory.
  const programs = programBinds(input.programs, input.path, input.worktree, [...hidden, '/tmp', real('/tmp')]);
  readOnly.push(...programs.readOnly);

  const readOnlyFiles: [string, string][] = [];
  if (input.claudeLogin) {
    // The OAuth login, read-only; its settings file is copied so the CLI may update its own copy.
    readOnlyFiles.push([join(home, '.claude', '.credentials.json'), join(home, '.claude', '.credentials.json')]);
    mkdirSync(join(homeSource, '.claude'), { recursive: true, mode: 0o700 });
    if (existsSync(join(home, '.claude.json'))) copyFileSync(join(home, '.claude.json'), join(homeSource, '.claude.json'));
  }
  const writableFiles: [string, string][] = [];
  for (const file of input.credentials ?? []) {
    // Relative names under HOME only: a runtime module's constant, never user input, but checked all the same.
    if (file.path.startsWith('/') || file.path.split('/').includes('..')) continue;
    const at = join(home, file.path);
    mkdirSync(dirname(join(homeSource, file.path)), { recursive: true, mode: 0o700 });
    (file.writable ? writableFiles : readOnlyFiles).push([at, at]);
  }
  const policy: SandboxPolicy = {
    worktree: input.worktree, homeSource, home, tmpSource,
    hidden: [...new Set(hidden)], writable, readOnly: [...new Set(readOnly)], readOnlyFiles, writableFiles,
    symlinks: placeLinks(programs.symlinks, [[home, homeSource], ['/tmp', tmpSource]]),
    dotGitFile: input.git?.dotGitFile ?? null,
    network: input.network,
    runAs: input.runAs ?? null,
  };
  assertNoConflict(policy);
  return policy;
}
