import { copyFileSync, existsSync, mkdirSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import type { PrivateGitDir } from '../../git/index.js';
import type { SandboxPolicy } from './bwrap.js';
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

const inside = (parent: string, path: string): boolean => path === parent || path.startsWith(parent.endsWith(sep) ? parent : parent + sep);

/**
 * The install directory of a program that lives under a hidden directory
 * (e.g. node from ~/.nvm/versions/node/v20/bin/node → ~/.nvm/versions/node/v20),
 * bound back read-only so the program and its libraries still run.
 */
function installRoots(programs: string[], path: string | undefined, cwd: string, hidden: string[]): string[] {
  const roots: string[] = [];
  for (const program of programs) {
    const found = findExecutable(program, path, cwd);
    if (found === null) continue;
    for (const file of new Set([found, real(found)])) {
      if (!hidden.some((h) => inside(h, file))) continue;
      const bin = dirname(file);
      const root = dirname(bin);
      // Never bind a hidden root itself back (e.g. a program directly in HOME/bin would re-expose HOME).
      roots.push(hidden.includes(root) ? bin : root);
    }
  }
  return roots;
}

/**
 * What one agent's sandbox allows. Hidden: $MOSAIC_HOME (token, key, store,
 * other agents), the user's HOME (replaced by a private one), every
 * registered repository and its worktrees (the agent's own worktree is bound
 * back), the user's runtime dir (agent sockets) and container daemon sockets.
 */
export function buildPolicy(input: PolicyInput): SandboxPolicy {
  const home = homedir();
  const homeSource = join(input.boxDir, 'home');
  const tmpSource = join(input.boxDir, 'tmp');
  mkdirSync(homeSource, { recursive: true, mode: 0o700 });
  mkdirSync(tmpSource, { recursive: true, mode: 0o1777 });

  const uid = process.getuid?.();
  const hidden = [input.mosaicHome, home, real(input.mosaicHome), real(home)];
  for (const repo of input.repoPaths) hidden.push(repo, `${repo}_worktrees`, real(repo), `${real(repo)}_worktrees`);
  if (uid !== undefined) hidden.push(`/run/user/${uid}`);
  hidden.push(...DAEMON_SOCKETS);
  const readOnly: string[] = [];
  const writable: string[] = [];
  if (input.git) {
    readOnly.push(input.git.objectsDir, ...input.git.alternateDirs);
    writable.push(input.git.gitDir);
  }
  // /tmp is replaced by the agent's private one, so a program installed under it (a checkout in /tmp, as
  // CI clones often are) is bound back like one under a hidden directory.
  readOnly.push(...installRoots(input.programs, input.path, input.worktree, [...hidden, '/tmp', real('/tmp')]));

  const readOnlyFiles: [string, string][] = [];
  if (input.claudeLogin) {
    // The OAuth login, read-only; its settings file is copied so the CLI may update its own copy.
    readOnlyFiles.push([join(home, '.claude', '.credentials.json'), join(home, '.claude', '.credentials.json')]);
    mkdirSync(join(homeSource, '.claude'), { recursive: true, mode: 0o700 });
    if (existsSync(join(home, '.claude.json'))) copyFileSync(join(home, '.claude.json'), join(homeSource, '.claude.json'));
  }
  return {
    worktree: input.worktree, homeSource, home, tmpSource,
    hidden, writable, readOnly, readOnlyFiles,
    dotGitFile: input.git?.dotGitFile ?? null,
    network: input.network,
  };
}
