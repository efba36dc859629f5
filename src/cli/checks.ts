import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type Database from 'better-sqlite3';
import { loadConfig } from '../core/config.js';
import { homePaths, modeOf } from '../core/home.js';
import { findExecutable, probeSandbox, resolveAgentUser, runsAsRoot } from '../agents/sandbox/index.js';
import { fingerprint, rawPublicKey } from '../federation/identity/index.js';
import { ApiClient, CliError, messageOf, type Health } from './client.js';
import { checkPostgresStore } from './store-check.js';

/** The checks behind `mosaic doctor`. Each is read-only: doctor never creates or repairs anything. */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface CheckContext {
  home: string;
  url: string;
  /** `lock`: the URL is the live server's, read from `$MOSAIC_HOME/server.lock` (doctor says so). */
  urlFrom?: 'flag' | 'env' | 'lock' | 'config';
  token: string | undefined;
  env: NodeJS.ProcessEnv;
}

const run = promisify(execFile);
const octal = (mode: number) => `0${mode.toString(8)}`;

/** `[major, minor, patch]` from text like `v20.11.1` or `git version 2.43.0.windows.1`. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  for (let i = 0; i < minimum.length; i++) {
    const a = version[i] ?? 0;
    const b = minimum[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export function checkNode(version = process.version): Check {
  const parsed = parseVersion(version);
  const ok = parsed !== undefined && atLeast(parsed, [20, 0, 0]);
  return { name: 'node', status: ok ? 'ok' : 'fail', detail: `${version}${ok ? '' : ' (Mosaic needs Node.js >= 20)'}` };
}

export async function checkGit(): Promise<Check> {
  try {
    const { stdout } = await run('git', ['--version'], { timeout: 10_000 });
    const parsed = parseVersion(stdout);
    // `git worktree remove` arrived in 2.17.
    const ok = parsed !== undefined && atLeast(parsed, [2, 17, 0]);
    return { name: 'git', status: ok ? 'ok' : 'fail', detail: `${stdout.trim()}${ok ? '' : ' (Mosaic needs git >= 2.17)'}` };
  } catch (err) {
    return { name: 'git', status: 'fail', detail: `git not found on PATH (${messageOf(err)})` };
  }
}

export function checkHome(home: string): Check[] {
  const paths = homePaths(home);
  const mode = modeOf(home);
  if (mode === undefined) {
    return [{ name: 'home', status: 'fail', detail: `${home} does not exist — run \`mosaic init\`` }];
  }
  const checks: Check[] = [{
    name: 'home',
    status: mode === 0o700 ? 'ok' : 'fail',
    detail: `${home} (${octal(mode)}${mode === 0o700 ? '' : `, should be 0700: chmod 700 ${home}`})`,
  }];
  const tokenMode = modeOf(paths.adminToken);
  if (tokenMode === undefined) {
    checks.push({ name: 'admin token', status: 'fail', detail: `${paths.adminToken} is missing — run \`mosaic init\`` });
  } else {
    const ok = tokenMode === 0o600;
    checks.push({
      name: 'admin token',
      status: ok ? 'ok' : 'fail',
      detail: `${paths.adminToken} (${octal(tokenMode)}${ok ? '' : `, should be 0600: chmod 600 ${paths.adminToken}`})`,
    });
  }
  return checks;
}

/**
 * The store: a PostgreSQL database when MOSAIC_DATABASE_URL is set (reachable,
 * migrated, version), else the SQLite file, opened read-only, so doctor can
 * run beside a live server without touching its data.
 */
export async function checkStore(home: string, env: NodeJS.ProcessEnv = {}): Promise<Check> {
  let databaseUrl: string | undefined;
  try {
    databaseUrl = loadConfig(env, { home }).databaseUrl;
  } catch {
    // A bad configuration is checkConfig's to report.
  }
  if (databaseUrl !== undefined) return checkPostgresStore(databaseUrl);
  const file = homePaths(home).db;
  if (!existsSync(file)) return { name: 'store', status: 'ok', detail: `${file} will be created at first start` };
  let db: Database.Database | undefined;
  try {
    // Loaded on demand so that only doctor pays for the native module.
    const { default: Sqlite } = await import('better-sqlite3');
    db = new Sqlite(file, { readonly: true, fileMustExist: true, timeout: 2000 });
    const row = db.prepare<[], { version: number | null }>('SELECT max(version) AS version FROM schema_migrations').get();
    return { name: 'store', status: 'ok', detail: `${file} (schema version ${row?.version ?? 0})` };
  } catch (err) {
    return { name: 'store', status: 'fail', detail: `${file} cannot be read: ${messageOf(err)}` };
  } finally {
    db?.close();
  }
}

export function checkIdentity(home: string): Check {
  const file = join(homePaths(home).identityDir, 'ed25519.pem');
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch {
    return { name: 'identity', status: 'fail', detail: `${file} is missing — run \`mosaic init\`` };
  }
  try {
    const instanceId = fingerprint(rawPublicKey(createPublicKey(createPrivateKey(pem))));
    const mode = modeOf(file);
    if (mode !== undefined && mode !== 0o600) {
      return { name: 'identity', status: 'fail', detail: `${file} is ${octal(mode)}, should be 0600: chmod 600 ${file}` };
    }
    return { name: 'identity', status: 'ok', detail: `instance ${instanceId}` };
  } catch (err) {
    return { name: 'identity', status: 'fail', detail: `${file} is not a usable Ed25519 key: ${messageOf(err)}` };
  }
}

export function checkClaude(ctx: CheckContext): Check {
  let bin = ctx.env.MOSAIC_CLAUDE_BIN || 'claude';
  try {
    bin = loadConfig(ctx.env).claudeBin;
  } catch {
    // A broken config.json is reported by checkConfig; fall back to the env/default.
  }
  const found = findExecutable(bin, ctx.env.PATH) ?? undefined;
  return found
    ? { name: 'claude', status: 'ok', detail: found }
    : { name: 'claude', status: 'warn', detail: `'${bin}' not found (set MOSAIC_CLAUDE_BIN); the command runtime works without it` };
}

export function checkConfig(ctx: CheckContext): Check {
  try {
    const config = loadConfig(ctx.env);
    return { name: 'config', status: 'ok', detail: `listen ${config.host}:${config.port}, max ${config.maxAgents} agents` };
  } catch (err) {
    return { name: 'config', status: 'fail', detail: messageOf(err) };
  }
}

/** Whether agents will be sandboxed (DESIGN §3): bubblewrap present and working, against MOSAIC_SANDBOX. */
export function checkSandbox(ctx: CheckContext): Check {
  let mode: string;
  let bwrap: string;
  try {
    const config = loadConfig(ctx.env);
    mode = config.sandbox;
    bwrap = config.bwrapPath;
  } catch (err) {
    return { name: 'sandbox', status: 'fail', detail: messageOf(err) };
  }
  const probe = probeSandbox(bwrap, ctx.env.PATH);
  if (probe.available) {
    return mode === 'off'
      ? { name: 'sandbox', status: 'warn', detail: `MOSAIC_SANDBOX=off: local agents run unsandboxed (bubblewrap at ${probe.path} works; peers' agents still use it)` }
      : { name: 'sandbox', status: 'ok', detail: `bubblewrap at ${probe.path} works; MOSAIC_SANDBOX=${mode}` };
  }
  if (mode === 'required') return { name: 'sandbox', status: 'fail', detail: `MOSAIC_SANDBOX=required but ${probe.reason}: every agent will fail` };
  return { name: 'sandbox', status: 'warn', detail: `${probe.reason}: local agents run unsandboxed (MOSAIC_SANDBOX=${mode}), peers' spawns are refused` };
}

/**
 * The user sandboxed agents run as (DESIGN §3): Mosaic's own when it is not
 * root; as root, MOSAIC_AGENT_USER (default nobody), which must resolve to an
 * unprivileged user, with util-linux's setpriv to switch to it.
 */
export function checkAgentUser(ctx: CheckContext, root = runsAsRoot()): Check {
  let spec: string;
  try {
    spec = loadConfig(ctx.env).agentUser;
  } catch (err) {
    return { name: 'agent user', status: 'fail', detail: messageOf(err) };
  }
  if (!root) return { name: 'agent user', status: 'ok', detail: `agents run as ${process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`}, Mosaic's own user (MOSAIC_AGENT_USER applies only when Mosaic runs as root)` };
  try {
    const user = resolveAgentUser(spec);
    if (findExecutable('setpriv', ctx.env.PATH) === null) {
      return { name: 'agent user', status: 'fail', detail: `${spec} (uid ${user.uid}, gid ${user.gid}), but setpriv (util-linux) is not on PATH: sandboxed agents cannot start` };
    }
    return { name: 'agent user', status: 'ok', detail: `sandboxed agents run as ${spec} (uid ${user.uid}, gid ${user.gid}), not root; MOSAIC_SANDBOX=off agents run as root` };
  } catch (err) {
    return { name: 'agent user', status: 'fail', detail: messageOf(err) };
  }
}

/**
 * How agents' worktrees are made (git/layered.ts): as root, an overlay over
 * one checkout per base commit (a spawn writes no files); otherwise, or with
 * MOSAIC_LAYERED_WORKTREES=0, each is a full checkout.
 */
export function checkWorktreeMode(ctx: CheckContext, root = runsAsRoot()): Check {
  let layered: boolean;
  try {
    layered = loadConfig(ctx.env).layeredWorktrees;
  } catch (err) {
    return { name: 'worktree mode', status: 'fail', detail: messageOf(err) };
  }
  if (!layered) return { name: 'worktree mode', status: 'ok', detail: 'full checkouts (MOSAIC_LAYERED_WORKTREES=0)' };
  if (!root) return { name: 'worktree mode', status: 'ok', detail: 'full checkouts (layered worktrees mount an overlay, which needs Mosaic to run as root)' };
  return {
    name: 'worktree mode', status: 'ok',
    detail: 'layered: an overlay over one checkout per base commit (a repository where the overlay cannot be mounted gets full checkouts, said once in the server log)',
  };
}

/** Reachability is a warning (the server may simply not be started); a rejected token is a failure. */
export async function checkServer(ctx: CheckContext): Promise<Check> {
  const client = new ApiClient({ url: ctx.url, token: ctx.token, timeoutMs: 3000 });
  let health: Health;
  try {
    health = await client.get<Health>('/health');
  } catch (err) {
    const why = err instanceof CliError && err.code === 'not_running' ? 'not running' : messageOf(err);
    return { name: 'server', status: 'warn', detail: `no instance at ${ctx.url} (${why}) — start one with \`mosaic up\`` };
  }
  try {
    await client.get('/repos');
  } catch (err) {
    return { name: 'server', status: 'fail', detail: `${ctx.url} is up but refused the admin token: ${messageOf(err)}` };
  }
  const found = ctx.urlFrom === 'lock' ? `, found through ${join(ctx.home, 'server.lock')}` : '';
  return { name: 'server', status: 'ok', detail: `${ctx.url} (instance ${health.instanceId}, version ${health.version}${found})` };
}

interface RepoPoolView {
  name: string;
  poolSize?: number;
  pool?: { ready: number; preparing: number; error?: string };
  shareDirs?: string[];
  shareMode?: 'reflink' | 'overlay' | 'copy' | null;
}

const SHARE_MODE_TEXT = {
  reflink: 'reflink clones (copy-on-write)',
  overlay: 'a read-only shared snapshot with a private layer per agent (sandbox overlay)',
  copy: 'a full copy per worktree',
} as const;

/**
 * How shareDirs reach worktrees: a full copy per worktree is a warning (no
 * reflinks on this filesystem and no overlay under the sandbox, e.g.
 * MOSAIC_SANDBOX=off): safe, but every worktree pays the disk.
 */
function checkShareDirs(repos: readonly RepoPoolView[]): Check | null {
  const sharing = repos.filter((repo) => (repo.shareDirs?.length ?? 0) > 0 && repo.shareMode);
  if (sharing.length === 0) return null;
  const copying = sharing.filter((repo) => repo.shareMode === 'copy');
  const detail = sharing.map((repo) => `${repo.name}: ${repo.shareDirs!.join(', ')} as ${SHARE_MODE_TEXT[repo.shareMode!]}`).join('; ');
  return copying.length > 0
    ? { name: 'share dirs', status: 'warn', detail: `${detail} (no reflinks on this filesystem and no overlay under the sandbox: no disk saved)` }
    : { name: 'share dirs', status: 'ok', detail };
}

/**
 * Warm pools of the running instance: a pool that cannot prepare worktrees
 * (its setup fails) is a warning; one still filling is fine. None when the
 * server is not reachable or no repository has a pool.
 */
export async function checkPools(ctx: CheckContext): Promise<Check[]> {
  let repos: RepoPoolView[];
  try {
    repos = (await new ApiClient({ url: ctx.url, token: ctx.token, timeoutMs: 3000 }).get<{ repos: RepoPoolView[] }>('/repos')).repos;
  } catch {
    return [];
  }
  const shared = checkShareDirs(repos);
  const pooled = repos.filter((repo) => (repo.poolSize ?? 0) > 0);
  if (pooled.length === 0) return shared ? [shared] : [];
  const failing = pooled.filter((repo) => repo.pool?.error);
  const detail = pooled.map((repo) => `${repo.name} ${repo.pool?.ready ?? 0}/${repo.poolSize} ready`
    + (repo.pool?.preparing ? `, ${repo.pool.preparing} preparing` : '') + (repo.pool?.error ? ` (${repo.pool.error})` : '')).join('; ');
  return [{ name: 'pools', status: failing.length > 0 ? 'warn' : 'ok', detail }, ...(shared ? [shared] : [])];
}

interface WorktreeListView { repo: string; path: string; broken?: string }

/**
 * Broken worktree entries the running instance sees (what a crash in the
 * middle of `git worktree add` leaves): a warning until reconciliation
 * prunes them. None when the server is not reachable.
 */
export async function checkWorktrees(ctx: CheckContext): Promise<Check[]> {
  let worktrees: WorktreeListView[];
  try {
    worktrees = (await new ApiClient({ url: ctx.url, token: ctx.token, timeoutMs: 5000 }).get<{ worktrees: WorktreeListView[] }>('/worktrees')).worktrees;
  } catch {
    return [];
  }
  const broken = worktrees.filter((w) => w.broken !== undefined);
  if (broken.length === 0) return [{ name: 'worktrees', status: 'ok', detail: `${worktrees.length} managed, none broken` }];
  const listed = broken.slice(0, 5).map((w) => `${w.repo}: ${w.path} (${w.broken})`).join('; ');
  return [{
    name: 'worktrees', status: 'warn',
    detail: `${broken.length} broken worktree entr${broken.length === 1 ? 'y' : 'ies'}: ${listed}${broken.length > 5 ? '; …' : ''} — mosaic worktrees reconcile prunes them (what they hold is kept under refs/mosaic/snapshots/)`,
  }];
}

export async function runChecks(ctx: CheckContext): Promise<Check[]> {
  const [git, store, server, pools, worktrees] = await Promise.all([
    checkGit(), checkStore(ctx.home, ctx.env), checkServer(ctx), checkPools(ctx), checkWorktrees(ctx)]);
  return [
    checkNode(),
    git,
    checkConfig(ctx),
    ...checkHome(ctx.home),
    store,
    checkIdentity(ctx.home),
    checkClaude(ctx),
    checkSandbox(ctx),
    checkAgentUser(ctx),
    checkWorktreeMode(ctx),
    server,
    ...pools,
    ...worktrees,
  ];
}
