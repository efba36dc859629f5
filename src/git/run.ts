import { execFile } from 'node:child_process';
import { createReadStream, existsSync, lstatSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * The one place Mosaic starts git. Arguments go to execFile as an array (never
 * through a shell) and the environment is rebuilt so nothing the parent
 * process inherited can point git at another repository or change what it
 * prints.
 */
export interface RunGitOptions {
  /** Kill git after this long (default 60 s). */
  timeoutMs?: number;
  /** Written to git's standard input; without it stdin is closed at once. */
  input?: string | Buffer;
  /** A file streamed to git's standard input instead of `input` (a pack for index-pack). */
  inputFile?: string;
  /** Added on top of the sanitized environment (these may set GIT_* vars). */
  env?: Record<string, string>;
  /** Output larger than this fails the call (default 64 MiB). */
  maxBuffer?: number;
  /**
   * Further paths git may work in although another user owns them
   * (`safe.directory`, command scope). Not passed on to the upload-pack of a
   * local fetch, which git starts with a cleaned environment.
   */
  safeDirectories?: string[];
  /**
   * The repository's filter drivers, turned off, as `worktreeFilters` read
   * them for this `cwd` earlier in the same operation: saves the lookup (a
   * git process) on each of the operation's calls that would make it.
   */
  filters?: WorktreeFilters;
}

/** The filter overrides of one directory, read once for several calls there (see `worktreeFilters`). */
export interface WorktreeFilters {
  readonly cwd: string;
  readonly overrides: ReadonlyArray<readonly [string, string]>;
}

export interface GitResult {
  stdout: string;
  stderr: string;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;

export class GitError extends Error {
  readonly args: readonly string[];
  readonly cwd: string;
  /** null when git did not exit on its own (spawn failure, timeout, signal). */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Output exceeded maxBuffer. */
  readonly tooLarge: boolean;

  constructor(init: {
    args: readonly string[]; cwd: string; exitCode: number | null; signal: string | null;
    stdout: string; stderr: string; timedOut: boolean; tooLarge: boolean; reason?: string;
  }) {
    const firstLine = init.stderr.trim().split('\n').find((line) => line.trim() !== '') ?? '';
    const why = init.reason ?? (init.exitCode !== null ? `exit ${init.exitCode}` : `signal ${init.signal ?? 'unknown'}`);
    super(`git ${init.args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? ''} failed (${why})${firstLine ? `: ${firstLine}` : ''}`);
    this.name = 'GitError';
    this.args = init.args;
    this.cwd = init.cwd;
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.stdout = init.stdout;
    this.stderr = init.stderr;
    this.timedOut = init.timedOut;
    this.tooLarge = init.tooLarge;
  }
}

export function isGitError(err: unknown): err is GitError {
  return err instanceof GitError;
}

/**
 * GIT_* variables that only say how to reach git or its config, never which
 * repository to act on. Everything else starting with GIT_ is dropped: a
 * parent running inside a git hook has GIT_DIR, GIT_INDEX_FILE, GIT_PREFIX,
 * GIT_CONFIG_PARAMETERS etc. set, and inheriting them would make git act on
 * the wrong repository or index; GIT_AUTHOR_* would change snapshot identity.
 */
const KEPT_GIT_VARS = new Set([
  'GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_EXEC_PATH',
  'GIT_TEMPLATE_DIR', 'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_SSH_VARIANT',
  'GIT_TRACE', 'GIT_TRACE2', 'GIT_TRACE2_EVENT', 'GIT_TRACE2_PERF',
]);

export function sanitizedEnv(parent: NodeJS.ProcessEnv = process.env, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (key.startsWith('GIT_') && !KEPT_GIT_VARS.has(key)) continue;
    if (key === 'LANG' || key === 'LANGUAGE' || key.startsWith('LC_')) continue;
    env[key] = value;
  }
  env.LC_ALL = 'C';
  env.GIT_TERMINAL_PROMPT = '0';
  // No command Mosaic runs should open an editor or pager; if one ever does,
  // it must return at once rather than hang on a terminal that is not there.
  env.GIT_EDITOR = ':';
  env.GIT_SEQUENCE_EDITOR = ':';
  env.GIT_PAGER = 'cat';
  env.GIT_ASKPASS = '';
  env.SSH_ASKPASS = '';
  return { ...env, ...extra };
}

/**
 * Config that would run a program, switched off on every call through the
 * environment (GIT_CONFIG_COUNT: command-line precedence, and inherited by
 * the git processes git itself starts, e.g. upload-pack in a local fetch):
 * hooks (worktree add runs post-checkout, update-ref reference-transaction),
 * the fsmonitor program, and the `ext::` transport. Diff drivers and
 * textconv are refused by the diff commands' own --no-ext-diff/--no-textconv.
 */
export const SAFE_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['protocol.ext.allow', 'never'],
];

function safeConfigEnv(extra: ReadonlyArray<readonly [string, string]> = []): Record<string, string> {
  const all = [...SAFE_CONFIG, ...extra];
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(all.length) };
  all.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/**
 * Subcommands that never read or write worktree files or an index, so no
 * clean/smudge filter can run in them. Every other subcommand gets the
 * repository's filters switched off (default-deny): commands that merely write
 * an index re-read "racily clean" entries through the clean filter — even
 * `write-tree`, which is how a planted filter once ran intermittently under load.
 */
const WORKTREE_FREE = new Set(['rev-parse', 'config', 'update-ref', 'symbolic-ref', 'merge-base', 'rev-list', 'log',
  'show', 'cat-file', 'for-each-ref', 'show-ref', 'ls-tree', 'diff-tree', 'mktree', 'commit-tree', 'merge-tree',
  'bundle', 'fetch', 'remote', 'branch', 'init', 'var', 'version', 'count-objects', 'fsck', 'pack-refs', 'tag',
  'verify-pack', 'index-pack', 'unpack-objects', 'name-rev', 'pack-objects']);

function subcommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-c' || a === '-C' || a === '--git-dir' || a === '--work-tree') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * Every filter driver the repository's config names (`filter.<x>.clean`,
 * `smudge`, `process`), turned off: an empty command is git's "no filter",
 * and `required=false` keeps git from refusing to work without it.
 */
export async function filterOverrides(cwd: string, trusted: ReadonlyArray<readonly [string, string]> = []): Promise<Array<[string, string]>> {
  let names: string[] = [];
  try {
    const { stdout } = await execGit(cwd, ['config', '-z', '--name-only', '--get-regexp', '^filter\\.'], { env: safeConfigEnv(trusted) });
    names = stdout.split('\0').filter((n) => n !== '');
  } catch (err) {
    // Exit 1: no filter configured. Anything else (not a repository yet or any more, a timeout, a
    // spawn failure under load) must not let the real call run with the filters on: fail closed.
    if (err instanceof GitError && err.exitCode === 1) return [];
    throw err;
  }
  const drivers = new Set<string>();
  for (const key of names) {
    const m = /^filter\.(.+)\.(smudge|clean|process|required)$/i.exec(key);
    if (m?.[1] !== undefined) drivers.add(m[1]);
  }
  const off: Array<[string, string]> = [];
  for (const driver of drivers) {
    for (const kind of ['smudge', 'clean', 'process']) off.push([`filter.${driver}.${kind}`, '']);
    off.push([`filter.${driver}.required`, 'false']);
  }
  return off;
}

let agentTreeOwner: number | null = null;

/**
 * When Mosaic runs as root, its agents run as another user (the agent user)
 * that owns their worktrees; git refuses to work in a tree another user owns
 * ("dubious ownership"). Told that uid, runGit trusts exactly the directory
 * it runs in when the agent user owns it (`safe.directory=<that path>`, on
 * the command line, with every other setting of SAFE_CONFIG kept): the
 * config git reads there still comes from the repository's own git dir,
 * which stays Mosaic's. Null (not root) trusts nothing more.
 */
export function trustAgentOwnedTrees(uid: number | null): void {
  agentTreeOwner = uid;
}

function trustedHere(cwd: string, extra: readonly string[] = []): Array<[string, string]> {
  const trusted = extra.map((path): [string, string] => ['safe.directory', path]);
  if (agentTreeOwner === null) return trusted;
  try {
    const info = lstatSync(cwd);
    if (info.isDirectory() && info.uid === agentTreeOwner) trusted.push(['safe.directory', realpathSync(cwd)]);
  } catch {
    // not there: git reports it
  }
  return trusted;
}

/**
 * The filter overrides `runGit` would look up in `cwd`, read once: an
 * operation of several calls in one worktree (a snapshot) passes them as
 * `filters` to each. Read at the start of the operation, like every call's own lookup.
 */
export async function worktreeFilters(cwd: string, safeDirectories?: string[]): Promise<WorktreeFilters> {
  return { cwd, overrides: await filterOverrides(cwd, trustedHere(cwd, safeDirectories)) };
}

export async function runGit(cwd: string, args: string[], opts: RunGitOptions = {}): Promise<GitResult> {
  const sub = subcommand(args);
  const trusted = trustedHere(cwd, opts.safeDirectories);
  const needsFilters = sub !== undefined && !WORKTREE_FREE.has(sub) && existsSync(cwd);
  // Overrides read for another directory are never reused here: its config may name other drivers.
  const given = opts.filters !== undefined && opts.filters.cwd === cwd ? opts.filters.overrides : undefined;
  const filters = needsFilters ? given ?? await filterOverrides(cwd, trusted) : [];
  return execGit(cwd, args, { ...opts, env: { ...opts.env, ...safeConfigEnv([...trusted, ...filters]) } });
}

function execGit(cwd: string, args: string[], opts: RunGitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, {
      cwd,
      env: sanitizedEnv(process.env, opts.env),
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: opts.maxBuffer ?? DEFAULT_MAX_BUFFER,
      encoding: 'utf8',
      windowsHide: true,
    }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ stdout, stderr });
        return;
      }
      // execFile's error carries `code` (exit status number or errno string),
      // `killed` and `signal`; its type does not say so precisely.
      const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: NodeJS.Signals | null; code?: number | string };
      const tooLarge = e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
      // `killed` means the timer fired and sent SIGKILL; a child that exited on its own just before
      // the signal landed still ran out of time, so the signal itself is not required.
      const timedOut = !tooLarge && e.killed === true;
      let reason: string | undefined;
      if (e.code === 'ENOENT') {
        reason = existsSync(cwd) ? 'git executable not found on PATH' : `directory ${cwd} does not exist`;
      } else if (tooLarge) {
        reason = 'output too large';
      } else if (timedOut) {
        reason = `timed out after ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`;
      } else if (typeof e.code === 'string') {
        reason = e.code;
      }
      reject(new GitError({
        args, cwd,
        exitCode: typeof e.code === 'number' ? e.code : null,
        signal: e.signal ?? null,
        stdout: String(stdout), stderr: String(stderr), timedOut, tooLarge,
        ...(reason === undefined ? {} : { reason }),
      }));
    });
    child.stdin?.on('error', () => undefined);
    if (opts.inputFile === undefined) child.stdin?.end(opts.input ?? '');
    else if (child.stdin) createReadStream(opts.inputFile).on('error', () => child.stdin?.destroy()).pipe(child.stdin);
  });
}

/** Runs git and reports whether it exited 0 or 1; any other outcome throws. */
export async function gitTest(cwd: string, args: string[], opts: RunGitOptions = {}): Promise<boolean> {
  try {
    await runGit(cwd, args, opts);
    return true;
  } catch (err) {
    if (err instanceof GitError && err.exitCode === 1) return false;
    throw err;
  }
}

const LOCK_PATTERNS = [
  /\.lock'?: File exists/i,
  /Unable to create '[^']*\.lock'/i,
  /index\.lock/i,
  /could not lock/i,
  /unable to lock/i,
  /Another git process seems to be running/i,
];

/** A failure caused by another git process holding one of git's lock files. */
export function isLockError(err: unknown): boolean {
  return err instanceof GitError && LOCK_PATTERNS.some((re) => re.test(err.stderr));
}

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  /** Runs after a lock failure, before the next attempt (e.g. undo half-done work). */
  beforeRetry?: (err: unknown) => Promise<void>;
}

/** Retries `task` with exponential backoff and jitter while it fails on a git lock. */
export async function withLockRetry<T>(task: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 6;
  const base = opts.baseDelayMs ?? 25;
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (err) {
      if (attempt >= attempts || !isLockError(err)) throw err;
      if (opts.beforeRetry) await opts.beforeRetry(err);
      const delay = base * 2 ** (attempt - 1) * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

let versionPromise: Promise<[number, number, number]> | undefined;

/** The installed git's version, asked once per process. */
export function gitVersion(): Promise<[number, number, number]> {
  versionPromise ??= runGit(tmpdir(), ['--version']).then(({ stdout }) => {
    const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(stdout);
    return [Number(m?.[1] ?? 0), Number(m?.[2] ?? 0), Number(m?.[3] ?? 0)] as [number, number, number];
  }, (err: unknown) => {
    versionPromise = undefined; // let a later call try again (e.g. git installed meanwhile)
    throw err;
  });
  return versionPromise;
}

export async function gitAtLeast(major: number, minor: number): Promise<boolean> {
  const [a, b] = await gitVersion();
  return a > major || (a === major && b >= minor);
}
