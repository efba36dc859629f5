import type { AgentLimits, SpawnRequest } from '../../agents/index.js';
import { forbidden, invalid, tooMany } from '../../core/errors.js';
import { isValidName } from '../../core/ids.js';
import { isAgentBranchName, isValidBranchName } from '../../git/index.js';
import { COMMANDS, RUNTIME_KINDS, type Command, type RuntimeKind } from './constants.js';

/** What a peer may do here; set by the side that runs the agents (DESIGN §4). */
export interface Grants {
  commands: Command[];
  /** Repository names, or `['*']` for every registered repository. */
  repos: string[];
  runtimes: RuntimeKind[];
  /** How many of this peer's agents may be queued, spawning or running at once. */
  maxActiveAgents: number;
  /** claude: the peer's agents get shell tools (Bash and the like). Absent = false. */
  shell?: boolean;
  /** `none`: the peer's agents run without network. Absent = `host`. */
  network?: 'host' | 'none';
  /**
   * The peer's agents' runtimes may load the configuration the repository
   * carries (Claude Code hooks, MCP servers …: code). Absent = false.
   */
  projectConfig?: boolean;
  /**
   * Branches the peer may spawn from besides each repository's base branch;
   * never an agent's branch (another agent's work, and what it committed).
   */
  baseBranches?: string[];
  /**
   * USD the peer's agents here may spend per day (UTC) together, counted
   * as a fleet budget `peer:<name>` with onExhausted `queue`: past it the
   * peer's spawns are accepted and wait queued until the next day. Absent =
   * no cap. Enforced by this side (the spoke).
   */
  maxCostUsdPerDay?: number;
}

export const MAX_ACTIVE_AGENTS_LIMIT = 1000;
const GRANT_FIELDS = ['commands', 'repos', 'runtimes', 'maxActiveAgents'] as const;
/** Optional fields: left out, a grant allows no shell tools and host network. */
const OPTIONAL_GRANT_FIELDS = ['shell', 'network', 'projectConfig', 'baseBranches', 'maxCostUsdPerDay'] as const;
export const MAX_GRANT_COST_USD_PER_DAY = 1_000_000;
export const MAX_GRANT_BASE_BRANCHES = 100;

/**
 * Grants before the spoke's admin decides anything. Every command is listed
 * because on their own they are harmless: a peer only ever sees and controls
 * agents it spawned itself, and with no repositories and a limit of 0 agents
 * it can spawn none. Running anything is therefore an explicit decision of
 * the spoke's admin (grant repos and maxActiveAgents); `command` stays out of
 * runtimes because it runs arbitrary programs.
 */
export function defaultGrants(): Grants {
  return { commands: [...COMMANDS], repos: [], runtimes: ['claude'], maxActiveAgents: 0 };
}

const badGrant = (field: string, message: string) => invalid('invalid_grants', `grants.${field} ${message}`, { field: `grants.${field}` });

function list<T extends string>(value: unknown, field: string, accept: (item: string) => item is T, what: string): T[] {
  if (!Array.isArray(value)) throw badGrant(field, 'must be an array');
  const out: T[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'string' || !accept(item)) throw badGrant(field, `must contain only ${what} (got ${JSON.stringify(item)})`);
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

const isCommand = (s: string): s is Command => (COMMANDS as readonly string[]).includes(s);
const isRuntime = (s: string): s is RuntimeKind => (RUNTIME_KINDS as readonly string[]).includes(s);
const isRepoGrant = (s: string): s is string => s === '*' || isValidName(s);
const isGrantableBase = (s: string): s is string => isValidBranchName(s) && !isAgentBranchName(s);

/**
 * Checks a grants object strictly: unknown fields and bad values are a 400
 * `invalid_grants` naming the field. A field left out is taken from `base`
 * (e.g. the current grants for a partial update, or defaultGrants() for a new
 * invite); without `base` every field is required.
 */
export function validateGrants(input: unknown, base?: Grants): Grants {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('invalid_grants', 'grants must be an object', { field: 'grants' });
  }
  const obj = input as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(GRANT_FIELDS as readonly string[]).includes(key) && !(OPTIONAL_GRANT_FIELDS as readonly string[]).includes(key)) throw badGrant(key, 'is not a grant');
  }
  for (const key of GRANT_FIELDS) {
    if (obj[key] === undefined && !base) throw badGrant(key, 'is required');
  }
  const commands = obj.commands === undefined ? [...base!.commands] : list(obj.commands, 'commands', isCommand, COMMANDS.join(', '));
  let repos = obj.repos === undefined ? [...base!.repos] : list(obj.repos, 'repos', isRepoGrant, "repository names or '*'");
  // '*' already covers every name; keeping others next to it would only suggest a restriction that is not there.
  if (repos.includes('*')) repos = ['*'];
  const runtimes = obj.runtimes === undefined ? [...base!.runtimes] : list(obj.runtimes, 'runtimes', isRuntime, RUNTIME_KINDS.join(', '));
  const max = obj.maxActiveAgents === undefined ? base!.maxActiveAgents : obj.maxActiveAgents;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > MAX_ACTIVE_AGENTS_LIMIT) {
    throw badGrant('maxActiveAgents', `must be an integer from 0 to ${MAX_ACTIVE_AGENTS_LIMIT}`);
  }
  const shell = obj.shell === undefined ? base?.shell : obj.shell;
  if (shell !== undefined && typeof shell !== 'boolean') throw badGrant('shell', 'must be a boolean');
  const network = obj.network === undefined ? base?.network : obj.network;
  if (network !== undefined && network !== 'host' && network !== 'none') throw badGrant('network', "must be 'host' or 'none'");
  const projectConfig = obj.projectConfig === undefined ? base?.projectConfig : obj.projectConfig;
  if (projectConfig !== undefined && typeof projectConfig !== 'boolean') throw badGrant('projectConfig', 'must be a boolean');
  const baseBranches = obj.baseBranches === undefined ? base?.baseBranches
    : list(obj.baseBranches, 'baseBranches', isGrantableBase, 'branch names that are not agent branches (agent-…)');
  if (baseBranches !== undefined && baseBranches.length > MAX_GRANT_BASE_BRANCHES) throw badGrant('baseBranches', `may list at most ${MAX_GRANT_BASE_BRANCHES} branches`);
  // null removes the cap.
  const maxCost = obj.maxCostUsdPerDay === undefined ? base?.maxCostUsdPerDay : obj.maxCostUsdPerDay;
  if (maxCost !== undefined && maxCost !== null
    && (typeof maxCost !== 'number' || !Number.isFinite(maxCost) || maxCost <= 0 || maxCost > MAX_GRANT_COST_USD_PER_DAY)) {
    throw badGrant('maxCostUsdPerDay', `must be a number above 0 and at most ${MAX_GRANT_COST_USD_PER_DAY}, or null for no cap`);
  }
  return {
    commands, repos, runtimes, maxActiveAgents: max,
    ...(typeof maxCost === 'number' ? { maxCostUsdPerDay: maxCost } : {}),
    ...(shell === undefined ? {} : { shell }),
    ...(network === undefined ? {} : { network }),
    ...(projectConfig === undefined ? {} : { projectConfig }),
    ...(baseBranches === undefined ? {} : { baseBranches: [...baseBranches] }),
  };
}

export interface GrantRequest {
  command: string;
  /** Required for agent.spawn. */
  repo?: string;
  /** The effective runtime kind; required for agent.spawn. */
  runtime?: string;
  /** The peer's agents that are queued, spawning or running now, before this one; required for agent.spawn. */
  activeAgents?: number;
}

/**
 * Throws unless `grants` allow the request: 403 `command_not_granted`,
 * `repo_not_granted`, `runtime_not_granted`, or 429 `max_agents_exceeded`.
 */
export function checkGrant(grants: Grants, req: GrantRequest): void {
  if (!(grants.commands as string[]).includes(req.command)) {
    throw forbidden('command_not_granted', `this peer is not granted ${req.command}`, { command: req.command });
  }
  if (req.command === 'agent.spawn' && (req.repo === undefined || req.runtime === undefined || req.activeAgents === undefined)) {
    // A caller bug, not a peer's fault: a spawn check without its facts would pass by omission.
    throw new TypeError('checkGrant for agent.spawn needs repo, runtime and activeAgents');
  }
  if (req.repo !== undefined && !grants.repos.includes('*') && !grants.repos.includes(req.repo)) {
    throw forbidden('repo_not_granted', `this peer is not granted repository ${req.repo}`, { repo: req.repo });
  }
  if (req.runtime !== undefined && !(grants.runtimes as string[]).includes(req.runtime)) {
    throw forbidden('runtime_not_granted', `this peer is not granted runtime ${req.runtime}`, { runtime: req.runtime });
  }
  if (req.activeAgents !== undefined && req.activeAgents >= grants.maxActiveAgents) {
    throw tooMany('max_agents_exceeded', `this peer may have at most ${grants.maxActiveAgents} active agents here`, {
      maxActiveAgents: grants.maxActiveAgents,
      activeAgents: req.activeAgents,
    });
  }
}

/**
 * Everything a grant decides about one spawn, for every holder of grants (a
 * federated peer, an A2A client token): the command, repository, runtime and
 * count (`checkGrant`), then the powers that amount to running the caller's
 * own code, the base branch (`checkBaseBranch`), and what goes with the
 * agent (its shell tools, its network, whether its runtime may load the
 * repository's own configuration). `activeAgents` is the holder's agents
 * queued, spawning or running now; the caller counts them and spawns under
 * one lock per holder, so the limit holds under concurrent requests.
 * `repoBaseBranch` is the requested repository's base branch here (null when
 * there is no such repository: the spawn itself answers 404 then).
 */
export function authorizeGrantedSpawn(grants: Grants, request: SpawnRequest, activeAgents: number, repoBaseBranch: string | null): AgentLimits {
  checkGrant(grants, { command: 'agent.spawn', repo: request.repo, runtime: request.runtime?.kind ?? 'claude', activeAgents });
  checkGrantedPowers(grants, request);
  checkHeadlessRuntime(grants, request.runtime?.kind ?? 'claude');
  if (repoBaseBranch !== null) checkBaseBranch(grants, request.baseBranch, repoBaseBranch);
  return { shell: grants.shell === true, network: grants.network ?? 'host', projectConfig: grants.projectConfig === true };
}

/**
 * A holder without the `command` runtime may run claude agents, but nothing
 * that amounts to running its own code: no `env` (NODE_OPTIONS, LD_PRELOAD,
 * PATH … would run anything through the claude CLI or the repository's
 * setup) and no `bypassPermissions`.
 */
function checkGrantedPowers(grants: Grants, request: SpawnRequest): void {
  if (grants.runtimes.includes('command')) return;
  if (request.env && Object.keys(request.env).length > 0) {
    throw forbidden('env_not_granted', 'passing env to an agent needs the command runtime in the grant', { field: 'env' });
  }
  if (request.runtime?.kind === 'claude' && request.runtime.permissionMode === 'bypassPermissions') {
    throw forbidden('permission_mode_not_granted', 'bypassPermissions needs the command runtime in the grant', { field: 'runtime.permissionMode' });
  }
}

/**
 * Codex, Gemini CLI and opencode work through a shell (codex only through
 * one), so they need a grant with shell; Gemini CLI cannot run with the
 * repository's configuration ignored (runtimes/gemini.ts), so it needs
 * `projectConfig` too. Refused at the spawn, not at the launch.
 */
function checkHeadlessRuntime(grants: Grants, kind: string): void {
  if ((kind === 'codex' || kind === 'gemini' || kind === 'opencode') && grants.shell !== true) {
    throw forbidden('shell_not_granted', `the ${kind} runtime runs shell commands; this peer's grant has no shell`, { field: 'runtime.kind' });
  }
  if (kind === 'gemini' && grants.projectConfig !== true) {
    throw forbidden('runtime_needs_project_config', 'the gemini runtime needs projectConfig in the grant (Gemini CLI cannot ignore the repository\'s configuration)', { field: 'runtime.kind' });
  }
}

/**
 * A peer spawns only from the repository's base branch or a branch its grant
 * lists (`grants.baseBranches`), compared as given: never another agent's
 * branch, a commit id, a tag or an expression (`main~1`). Otherwise 400
 * `base_branch_not_granted`.
 */
export function checkBaseBranch(grants: Grants, requested: string | undefined, repoBaseBranch: string): void {
  if (requested === undefined || requested === repoBaseBranch) return;
  if (!isAgentBranchName(requested) && (grants.baseBranches ?? []).includes(requested)) return;
  throw invalid('base_branch_not_granted', `this peer may spawn only from ${[repoBaseBranch, ...(grants.baseBranches ?? [])].join(', ')}, not from ${requested}`,
    { field: 'baseBranch', baseBranch: requested });
}
