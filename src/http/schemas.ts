import { PERMISSION_MODES } from '../agents/runtimes/index.js';
import { TIMING_PHASES } from '../core/agent-model.js';
import { NAME_PATTERN } from '../core/ids.js';

/** JSON schemas shared by routes; they validate requests and document the API in OpenAPI. */

/**
 * Names (repositories, task ids, agent ids). The pattern alone bounds the
 * length (1-64), so a bad name always fails on `pattern`, which the error
 * handler turns into a sentence saying what is allowed.
 */
export const name = {
  type: 'string',
  pattern: NAME_PATTERN,
  description: "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'",
} as const;

export const errorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

/** Error responses every admin route may give. */
export const commonErrors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse } as const;

const stringMap = {
  type: 'object',
  maxProperties: 100,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
  additionalProperties: { type: 'string', maxLength: 32768 },
} as const;

export const runtimeSchema = {
  type: 'object',
  required: ['kind'],
  discriminator: { propertyName: 'kind' },
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { const: 'claude' },
        model: { type: 'string', minLength: 1, maxLength: 128 },
        maxTurns: { type: 'integer', minimum: 1, maximum: 10_000 },
        permissionMode: { type: 'string', enum: [...PERMISSION_MODES] },
      },
    },
    ...(['codex', 'gemini', 'opencode'] as const).map((kind) => ({
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { const: kind },
        model: { type: 'string', minLength: 1, maxLength: 128 },
      },
    })),
    {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'argv'],
      properties: {
        kind: { const: 'command' },
        argv: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 32768 } },
      },
    },
  ],
} as const;

export const spawnBody = {
  type: 'object',
  additionalProperties: false,
  required: ['taskId', 'repo', 'prompt'],
  properties: {
    taskId: name,
    type: { type: 'string', enum: ['worker', 'reviewer', 'tester'] },
    repo: name,
    baseBranch: { type: 'string', minLength: 1, maxLength: 255 },
    prompt: { type: 'string', minLength: 1, maxLength: 130_048 },
    runtime: runtimeSchema,
    priority: { type: 'integer', minimum: 1, maximum: 10 },
    timeoutS: { type: 'integer', minimum: 1, maximum: 7 * 24 * 3600 },
    env: stringMap,
    budgetUsd: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000, description: 'USD this agent may spend; past it the agent is killed with error.code budget_exceeded' },
    peer: { type: 'string', minLength: 1, maxLength: 128 },
    idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 },
    node: { ...name, description: 'cluster: run on this node only (409 node_draining when it drains, node_cannot_serve when it lacks the runtime or the repository)' },
    retryOnNodeLost: { type: 'boolean', description: 'cluster: when its node is lost, start it again on another node' },
  },
} as const;

const nullableString = { type: ['string', 'null'] } as const;
const nullableInteger = { type: ['integer', 'null'] } as const;

export const agentSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'spawning', 'running', 'completed', 'failed', 'killed'] },
    taskId: { type: 'string' },
    type: { type: 'string' },
    repo: { type: 'string' },
    branch: { type: 'string' },
    baseBranch: { type: 'string' },
    worktreePath: { type: 'string' },
    runtime: { type: 'object', additionalProperties: true },
    origin: { type: 'string' },
    instance: { type: 'string', description: 'instanceId running the agent, for remote agents' },
    peer: { type: 'string', description: 'the connection name of that instance, for remote agents' },
    stale: { type: 'boolean', description: 'remote agents: not finished, and its peer is unreachable or not heard from for MOSAIC_FED_STALE_S, so this state may be out of date' },
    peerContact: {
      type: 'object',
      description: 'remote agents: when its peer was last heard from and since when it cannot be reached (ms since epoch, null when not)',
      properties: { lastContactAt: nullableInteger, unreachableSince: nullableInteger, error: nullableString },
    },
    pid: nullableInteger,
    exitCode: nullableInteger,
    error: { type: ['object', 'null'], additionalProperties: true },
    result: { type: ['object', 'null'], additionalProperties: true },
    priority: { type: 'integer' },
    port: nullableInteger,
    killRequested: { type: 'boolean' },
    landed: { type: ['object', 'null'], additionalProperties: true },
    pooled: { type: 'boolean' },
    sandbox: { ...nullableString, description: 'the sandbox the agent runs in (bubblewrap), null when unsandboxed' },
    limits: { type: ['object', 'null'], additionalProperties: true, description: 'what the spawning peer\'s grant allows (shell, network, projectConfig)' },
    timings: {
      type: ['object', 'null'],
      description: 'where its time went, in ms, phase by phase back to back from createdAt (an ended agent\'s add up to endedAt - createdAt): '
        + 'queued, worktree (made cold) or pool (taken from the warm pool), copy (copyFiles, shareDirs), sandbox, setup, '
        + 'launch (to the first byte of output), run, import (sandboxed commits onto the branch), snapshot, remove; '
        + 'a phase not reached is absent; null until the agent left the queue',
      additionalProperties: false,
      properties: Object.fromEntries(TIMING_PHASES.map((phase) => [phase, { type: 'integer', minimum: 0 }])),
    },
    budgetUsd: { type: ['number', 'null'], description: 'the agent\'s own budget in USD' },
    waitingFor: {
      type: ['object', 'null'],
      additionalProperties: true,
      description: 'a queued agent held by a spent fleet budget ({reason: budget, scope, resetsAt}), a paused runtime ({reason: rate_limit, runtime, resetsAt}), or in a cluster by no up node able to serve it ({reason: no_capable_node, runtime, repo}); resetsAt in ms since epoch',
    },
    createdAt: { type: 'integer' },
    startedAt: nullableInteger,
    endedAt: nullableInteger,
    idempotencyKey: nullableString,
    node: { ...nullableString, description: 'cluster: the node it runs (or ran) on, or is pinned to' },
    retryOnNodeLost: { type: 'boolean' },
    checkout: {
      type: 'object',
      description: 'GET /agents/:id of a local agent only: what exists on disk now',
      properties: {
        worktree: { type: 'string', enum: ['present', 'removed', 'none'] },
        branch: { type: 'string', enum: ['present', 'deleted', 'none', 'unknown'] },
      },
    },
  },
} as const;

const setupArgv = { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 32768 } } as const;

/**
 * The repository fields that can be set at registration and edited later
 * with PATCH. A new editable field (pool size, shared dirs, network) is one
 * property here and one check in RepoService.update.
 */
export const repoEditableProperties = {
  baseBranch: { type: 'string', minLength: 1, maxLength: 255 },
  setup: setupArgv,
  copyFiles: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 4096 } },
  // Warm pools (DESIGN §3): the service checks the paths and globs.
  poolSize: { type: 'integer', minimum: 0, maximum: 32 },
  shareDirs: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 4096 } },
  setupInputs: { type: ['array', 'null'], maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 1024 } },
  // Sandbox (DESIGN §3): `none` runs the repository's agents without network.
  network: { type: 'string', enum: ['host', 'none'] },
  // Issue 16: false = local agents' runtimes load none of the configuration the repository carries.
  projectConfig: { type: 'boolean' },
  // Issue 21: the default of its spawns' retryOnNodeLost in a cluster.
  retryOnNodeLost: { type: 'boolean' },
} as const;

export const repoBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name,
    path: { type: 'string', minLength: 1, maxLength: 4096, description: 'a local checkout (or url)' },
    url: {
      type: 'string', maxLength: 4096,
      description: 'shared by this git URL (https://, ssh://, user@host:path or file:///path): each node keeps its own clone under $MOSAIC_HOME/repos/<name>, fetched before a spawn; agents\' branches are pushed there (400 invalid_repo_url, 502 repo_fetch_failed)',
    },
    ...repoEditableProperties,
  },
} as const;

/** `PATCH /repos/:name`: any editable field; `setup: null` (or []) removes the setup. */
export const repoPatchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ...repoEditableProperties,
    setup: { ...setupArgv, type: ['array', 'null'] },
  },
} as const;

export const repoSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    path: { type: 'string', description: 'the checkout (for a repository shared by URL: this node\'s clone)' },
    url: { type: ['string', 'null'], description: 'the git URL the nodes share it by; null for a local path' },
    baseBranch: { type: 'string' },
    setup: { type: ['array', 'null'], items: { type: 'string' } },
    copyFiles: { type: 'array', items: { type: 'string' } },
    poolSize: { type: 'integer' },
    shareDirs: { type: 'array', items: { type: 'string' } },
    setupInputs: { type: ['array', 'null'], items: { type: 'string' } },
    network: { type: 'string', description: "host, or none: its sandboxed agents run without network" },
    projectConfig: {
      type: 'boolean',
      description: "local agents' runtimes may load the configuration the repository carries (Claude Code's .claude/settings*.json hooks, .mcp.json servers, skills …); false turns it off",
    },
    retryOnNodeLost: { type: 'boolean', description: 'cluster: the default of its spawns\' retryOnNodeLost (a spawn\'s own value wins; never for a spawn pinned with node)' },
    shareMode: {
      type: ['string', 'null'],
      description: 'how shareDirs reach each worktree here: reflink (copy-on-write clones), overlay (read-only shared snapshot with a private writable layer, in the sandbox) or copy (full copies); null without shareDirs',
    },
    pool: {
      type: 'object',
      description: 'worktrees the warm pool holds: ready to hand out, and being prepared',
      properties: { size: { type: 'integer' }, ready: { type: 'integer' }, preparing: { type: 'integer' }, error: { type: 'string' } },
    },
    createdAt: { type: 'integer' },
  },
} as const;

export const idParams = { type: 'object', required: ['id'], properties: { id: name } } as const;
export const nameParams = { type: 'object', required: ['name'], properties: { name } } as const;

export const landedSchema = {
  type: 'object',
  properties: {
    commit: { type: 'string' },
    into: { type: 'string' },
    strategy: { type: 'string', enum: ['merge', 'squash', 'rebase'] },
    at: { type: 'integer' },
  },
} as const;

export const landBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    strategy: { type: 'string', enum: ['merge', 'squash', 'rebase'] },
    into: { type: 'string', minLength: 1, maxLength: 255 },
    message: { type: 'string', minLength: 1, maxLength: 65_536 },
  },
} as const;

export const landResponse = {
  type: 'object',
  properties: { agent: agentSchema, landed: landedSchema },
} as const;

/** POST /agents/:id/reply: the new instruction, bounded as a spawn's prompt. */
export const replyBody = {
  type: 'object',
  required: ['prompt'],
  additionalProperties: false,
  properties: {
    prompt: { type: 'string', minLength: 1, maxLength: 130_048 },
  },
} as const;

export const retryBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    continue: { type: 'boolean' },
    resume: { type: 'boolean' },
  },
} as const;

export const pushBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    remote: { type: 'string', minLength: 1, maxLength: 255 },
    pr: { type: 'boolean' },
  },
} as const;

export const pushResponse = {
  type: 'object',
  properties: {
    agent: agentSchema,
    pushed: {
      type: 'object',
      properties: { remote: { type: 'string' }, branch: { type: 'string' }, commit: { type: 'string' }, pr: { type: 'string' } },
    },
  },
} as const;

export const fetchBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { repo: name },
} as const;

export const fetchResponse = {
  type: 'object',
  properties: {
    agent: agentSchema,
    fetched: { type: 'object', properties: { repo: { type: 'string' }, branch: { type: 'string' }, commit: { type: 'string' } } },
  },
} as const;
