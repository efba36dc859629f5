/**
 * The sandbox seam of the launcher: given an agent, decide whether it runs
 * sandboxed, prepare its private directory and git view, and turn any argv
 * (its setup, its runtime) into the argv that runs it inside the sandbox.
 * See README.md in this folder.
 */
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { handOver, handOverLayer } from '../../core/hand-over.js';
import { MosaicError } from '../../core/errors.js';
import { BASE_VIEW_DIR, preparePrivateGitDir, type ImportResult } from '../../git/index.js';
import { agentGitDir, importAgentCommits } from './agent-import.js';
import { agentUserFor, findSetpriv } from './agent-user.js';
import { bwrapArgv, type SandboxPolicy } from './bwrap.js';
import { BUBBLEWRAP, findExecutable, probeSandbox, type SandboxMode, type SandboxProbe } from './detect.js';
import { overlayArgv, probeOverlay, type OverlayMount, type OverlaySupport } from './overlay.js';
import { assertProgramsVisible, buildPolicy, secretPaths } from './policy.js';
import { AGENT_WRITABLE, removeTree } from './hostile-fs.js';

export { BUBBLEWRAP, findExecutable, probeSandbox, SANDBOX_MODES, type SandboxMode, type SandboxProbe } from './detect.js';
export { agentUserFor, resolveAgentUser, runsAsRoot, type AgentUser } from './agent-user.js';
export { bwrapArgv, policyConflicts, type SandboxPolicy } from './bwrap.js';
export { handOver } from '../../core/hand-over.js';
export { assertProgramsVisible, hiddenRuntime, runtimeHidden, secretPaths } from './policy.js';
export { makeLayer, type OverlayMount, type OverlaySupport } from './overlay.js';
export { AGENT_WRITABLE, HostileTreeError, removeTree, removeTreeInBackground, settleBackgroundRemovals } from './hostile-fs.js';

/** `$MOSAIC_HOME/agents/<id>/sandbox`: the agent's private HOME, tmp and git dir. */
export const BOX_DIR = 'sandbox';

export function sandboxUnavailable(reason: string): MosaicError {
  return new MosaicError(503, 'sandbox_unavailable', `no sandbox available: ${reason}`);
}

export interface SandboxDecision {
  /** The mechanism to use, or null to run unsandboxed. */
  mechanism: typeof BUBBLEWRAP | null;
  probe: SandboxProbe;
}

/**
 * Whether an agent of `origin` runs sandboxed under `mode`. Peers' agents are
 * always sandboxed; `required` never runs one unsandboxed; `auto` runs
 * unsandboxed only where no sandbox exists. Throws `sandbox_unavailable`.
 */
export function decideSandbox(mode: SandboxMode, origin: string, probe: SandboxProbe): SandboxDecision {
  const mustHave = origin !== 'local' || mode === 'required';
  if (mode === 'off' && !mustHave) return { mechanism: null, probe };
  if (probe.available) return { mechanism: probe.mechanism, probe };
  if (mustHave) throw sandboxUnavailable(probe.reason);
  return { mechanism: null, probe };
}

export function probeFor(config: Pick<Config, 'bwrapPath'>): SandboxProbe {
  return probeSandbox(config.bwrapPath, process.env.PATH);
}

/** Whether an agent of `origin` will run sandboxed (the answer `sandboxForAgent` gives, without throwing). */
export function willSandbox(config: Pick<Config, 'bwrapPath' | 'sandbox'>, origin: string): boolean {
  if (config.sandbox === 'off' && origin === 'local') return false;
  return probeFor(config).available;
}

/** Scratch space for the overlay probe: `$MOSAIC_HOME/shared`, where the shared snapshots and layers live too. */
export function sharedRoot(home: string): string {
  return join(home, 'shared');
}

/** Whether shared directories can be overlay-mounted under this machine's sandbox (probed once). */
export function overlaySupport(config: Pick<Config, 'home' | 'bwrapPath'>): OverlaySupport {
  const probe = probeFor(config);
  if (!probe.available) return { available: false, reason: probe.reason };
  return probeOverlay(probe.path, sharedRoot(config.home));
}

export interface PrepareInput {
  agentDir: string;
  worktree: string;
  repoPaths: string[];
  network: 'host' | 'none';
  /** argv[0]s the sandbox will run (setup, runtime), so their installs stay visible. */
  programs: string[];
  path: string | undefined;
  claudeLogin: boolean;
  /** The runtime's login files, relative to HOME (runtimes/runtime.ts CredentialFile): bound for this agent only. */
  credentials?: readonly { path: string; writable?: boolean }[];
  /** Shared directories mounted read-only with a private writable layer (shareDirs in `overlay` mode). */
  overlays?: readonly OverlayMount[];
  /** The worktree's own layer when it is a layered one (git/layered.ts): only that is handed over. */
  worktreeUpper?: string | null;
  /** Its git sees only the objects its starting commit reaches (a peer's agent; see git/private-gitdir.ts; packs cached in `$MOSAIC_HOME/base-packs`). */
  baseOnly?: boolean;
}

/** Under `$MOSAIC_HOME` (hidden from every agent): the packs of peers' agents' bases. */
export const BASE_PACKS_DIR = 'base-packs';

/** One agent's prepared sandbox: wraps argvs to run inside it. */
export interface PreparedSandbox {
  mechanism: typeof BUBBLEWRAP;
  policy: SandboxPolicy;
  wrap(argv: string[]): string[];
}

/** As root, the user inside the sandbox and the setpriv that switches to it; null otherwise. Throws `sandbox_unavailable`. */
function runAsFor(config: Pick<Config, 'agentUser'>): SandboxPolicy['runAs'] {
  const user = agentUserFor(config);
  if (user === null) return null;
  const setpriv = findSetpriv();
  if (setpriv === null) throw sandboxUnavailable('setpriv (util-linux) not found on PATH: as root, agents need it to run as MOSAIC_AGENT_USER');
  return { user, setpriv };
}

/**
 * Makes the private directory and git view of an agent and returns its
 * wrapper. As root, the trees the agent writes in (worktree, private HOME,
 * tmp and git dir, shared-dir layers) are handed over to the agent user.
 */
export async function prepareSandbox(config: Pick<Config, 'home' | 'bwrapPath' | 'agentUser'>, bwrap: string, input: PrepareInput): Promise<PreparedSandbox> {
  const runAs = runAsFor(config);
  const boxDir = join(input.agentDir, BOX_DIR);
  // Whatever an earlier launch of this agent left (a relaunch after a restart) goes first, links unfollowed:
  // its private dirs are made fresh, so nothing is ever written through what a sandboxed process left there.
  for (const name of [AGENT_WRITABLE.gitDir, AGENT_WRITABLE.home, AGENT_WRITABLE.tmp, BASE_VIEW_DIR]) removeTree(join(boxDir, name));
  // As root, the worktree (a whole checkout) is handed over while the private git dir is made: its top directory
  // changes owner before anything else runs (the walk's first slice is synchronous), so git, run there meanwhile,
  // already sees the agent user's tree (runGit trusts exactly that).
  const worktreeHanded = runAs === null ? Promise.resolve(0)
    : input.worktreeUpper ? handOverLayer(input.worktreeUpper, input.worktree, runAs.user) : handOver([input.worktree], runAs.user);
  const prepared = (async () => {
    const git = await preparePrivateGitDir(input.worktree, boxDir, input.baseOnly ? { baseOnly: { cacheDir: join(config.home, BASE_PACKS_DIR) } } : {});
    const policy = buildPolicy({
      worktree: input.worktree, boxDir, git, mosaicHome: config.home, repoPaths: input.repoPaths,
      network: input.network, programs: [...input.programs, process.execPath], path: input.path,
      claudeLogin: input.claudeLogin, credentials: input.credentials ?? [], runAs,
    });
    return { git, policy };
  })();
  const [, { git, policy }] = await Promise.all([worktreeHanded, prepared]);
  const overlays = input.overlays ?? [];
  if (runAs !== null) {
    // The `.git` file too (bound read-only over the worktree's): the agent's git refuses a repository whose files another user owns.
    const trees = [policy.homeSource, policy.tmpSource, ...(git ? [git.gitDir, git.dotGitFile] : []),
      ...overlays.map((o) => join(o.layerDir, 'upper'))];
    await handOver(trees, runAs.user);
  }
  if (overlays.length === 0) return { mechanism: BUBBLEWRAP, policy, wrap: (argv) => bwrapArgv(bwrap, policy, argv) };
  const support = overlaySupport(config);
  if (!support.available) throw sandboxUnavailable(`shared directories need an overlay mount: ${support.reason}`);
  return { mechanism: BUBBLEWRAP, policy, wrap: (argv) => overlayArgv(support, overlays, bwrapArgv(bwrap, policy, argv)) };
}

/**
 * Brings a sandboxed agent's commits home onto its branch (null for an
 * agent that never had a private git dir). Call before snapshotting its worktree.
 */
export function importSandboxWork(agentDir: string, repoPath: string, branch: string): Promise<ImportResult | null> {
  return importAgentCommits(join(agentDir, BOX_DIR), agentDir, repoPath, branch);
}

/** Where a sandboxed agent's private git dir is (null when it never had one): kept when its work could not be brought home. */
export function sandboxGitDir(agentDir: string): string | null {
  return agentGitDir(join(agentDir, BOX_DIR));
}

/** Deletes an agent's private directory once its work is home. */
export function removeSandboxDir(agentDir: string): void {
  removeTree(join(agentDir, BOX_DIR));
}

/** Checks that the program exists before a sandbox hides the error behind bwrap's own exit status. */
export function assertProgram(argv0: string | undefined, path: string | undefined, cwd: string): void {
  if (argv0 === undefined || findExecutable(argv0, path, cwd) === null) {
    throw new MosaicError(400, 'runtime_not_found', `command not found: ${argv0 ?? ''}`);
  }
}

export interface AgentSandboxInput {
  config: Pick<Config, 'home' | 'bwrapPath' | 'sandbox' | 'agentUser'>;
  origin: string;
  agentDir: string;
  worktree: string;
  /** The worktree's own layer when it is a layered one (git/layered.ts). */
  worktreeUpper?: string | null;
  repoPaths: string[];
  network: 'host' | 'none';
  /** argv[0] of everything that will run inside (setup, runtime). */
  programs: string[];
  /** The runtime's argv[0]: checked to exist, since inside bwrap a missing one is only an exit status. */
  runtimeProgram: string | undefined;
  path: string | undefined;
  claudeLogin: boolean;
  credentials?: readonly { path: string; writable?: boolean }[];
  overlays?: readonly OverlayMount[];
  /** Told when an agent runs unsandboxed because none is available (mode `auto`). */
  onUnsandboxed?: (reason: string) => void;
}

/**
 * The launcher's one call: null when the agent runs unsandboxed (mode `off`
 * for a local agent, or `auto` without a sandbox), its prepared sandbox
 * otherwise; throws `sandbox_unavailable` when it must be sandboxed and cannot.
 */
export async function sandboxForAgent(input: AgentSandboxInput): Promise<PreparedSandbox | null> {
  const probe = input.config.sandbox === 'off' && input.origin === 'local'
    ? ({ available: false, reason: 'MOSAIC_SANDBOX=off' } as const)
    : probeFor(input.config);
  const decision = decideSandbox(input.config.sandbox, input.origin, probe);
  if (decision.probe.available === false && decision.mechanism === null && input.config.sandbox !== 'off') {
    input.onUnsandboxed?.(decision.probe.reason);
  }
  if (decision.mechanism === null || !probe.available) {
    // Shared dirs given as overlays are empty mount points outside the sandbox: never run there without it.
    if ((input.overlays?.length ?? 0) > 0) throw sandboxUnavailable('the worktree\'s shared directories were prepared for the sandbox');
    return null;
  }
  assertProgram(input.runtimeProgram, input.path, input.worktree);
  // Binding back a program that lives in $MOSAIC_HOME or a repository would show what the sandbox hides.
  assertProgramsVisible(input.programs, input.path, input.worktree, secretPaths(input.config.home, input.repoPaths));
  // A peer's agent sees only the objects its base reaches; local agents share the repository's, read-only.
  return prepareSandbox(input.config, probe.path, { ...input, baseOnly: input.origin !== 'local' });
}
