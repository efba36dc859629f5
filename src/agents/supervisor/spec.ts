/**
 * The contract between the server and a detached supervisor: what it is told
 * to run (spec.json) and the files it leaves in the agent's directory. Both
 * sides read these files, possibly across a server restart, so keep them
 * plain JSON / plain text and never rename them lightly.
 */

export interface SupervisorSpec {
  agentId: string;
  /** argv[0] is looked up on `env.PATH`; no shell is involved. */
  argv: string[];
  cwd: string;
  /** The child's complete environment: nothing is inherited from the supervisor. */
  env: Record<string, string>;
  /** `$MOSAIC_HOME/agents/<agentId>`: holds the files below. */
  agentDir: string;
  timeoutMs: number | null;
  killGraceMs: number;
  /**
   * argv starts a sandbox (bubblewrap) whose death ends every process inside
   * it: a kill then sends SIGTERM to the processes in the group but the
   * sandbox itself, so they get their grace, and SIGKILL ends the sandbox.
   */
  sandboxed?: boolean;
  /**
   * Stream runtimes: end the agent when its output holds no JSON event line
   * (`{"type":…}`) this long after the start (MOSAIC_RUNTIME_FIRST_EVENT_S);
   * the exit record then says `silent`. Absent: no such check (command).
   */
  firstEventMs?: number;
}

export interface SpawnError {
  /** `runtime_not_found` (ENOENT) or `spawn_failed`. */
  code: string;
  message: string;
}

export interface ExitRecord {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Ended by the supervisor because no event came within `firstEventMs` (see SupervisorSpec). */
  silent?: boolean;
  silentAfterMs?: number;
  /** A kill was requested (SIGTERM to the supervisor). */
  killed: boolean;
  spawnError: SpawnError | null;
  startedAt: number;
  endedAt: number;
  /** When the agent's first byte of output reached output.log (ms; null when it printed nothing; absent from older supervisors). */
  firstOutputAt?: number | null;
}

/** Written by the server, 0600: the env may hold the user's secrets. */
export const SPEC_FILE = 'spec.json';
/** The agent's stdout and stderr, appended directly by the agent's own fds. */
export const OUTPUT_LOG = 'output.log';
export const SUPERVISOR_PID_FILE = 'supervisor.pid';
/** The agent's pid, which is also its process group id. */
export const CHILD_PID_FILE = 'child.pid';
/** Written atomically, last, once the agent and its whole process group are gone. */
export const EXIT_FILE = 'exit.json';
