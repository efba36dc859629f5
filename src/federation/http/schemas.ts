import { NAME_PATTERN } from '../../core/ids.js';
import { COMMANDS, CONNECTION_STATES, MAX_ACTIVE_AGENTS_LIMIT, MAX_GRANT_BASE_BRANCHES, MAX_GRANT_COST_USD_PER_DAY, MESSAGE_KINDS, RUNTIME_KINDS } from '../protocol/index.js';
import { MAX_INVITE_TTL_S } from '../connections/service.js';
import { MAX_MESSAGES_LIMIT, MESSAGE_STATUSES } from '../store/index.js';

/** JSON schemas of the federation routes: they validate requests and document the API in OpenAPI. */

import { errorResponse } from '../../http/schemas.js';

export { errorResponse };

export const adminErrors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse, 502: errorResponse, 504: errorResponse } as const;

/** Grants as a request gives them; omitted fields keep their current (or default) value. */
export const grantsBody = {
  type: 'object',
  additionalProperties: false,
  description: 'What the peer may do on this instance. Omitted fields keep their current value (defaults for a new invite).',
  properties: {
    commands: { type: 'array', maxItems: COMMANDS.length, items: { type: 'string', enum: [...COMMANDS] } },
    repos: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 64 }, description: "repository names, or ['*'] for all" },
    runtimes: { type: 'array', maxItems: RUNTIME_KINDS.length, items: { type: 'string', enum: [...RUNTIME_KINDS] } },
    maxActiveAgents: { type: 'integer', minimum: 0, maximum: MAX_ACTIVE_AGENTS_LIMIT },
    shell: { type: 'boolean', description: "claude agents get shell tools (Bash); default false" },
    network: { type: 'string', enum: ['host', 'none'], description: "'none': the peer's agents run without network; default host" },
    projectConfig: {
      type: 'boolean',
      description: "the peer's agents' runtimes may load the configuration a repository carries (Claude Code hooks, MCP servers …: code); default false",
    },
    baseBranches: {
      type: 'array', maxItems: MAX_GRANT_BASE_BRANCHES, items: { type: 'string', minLength: 1, maxLength: 255 },
      description: "branches the peer may spawn from besides each repository's base branch; never agent branches (400 base_branch_not_granted otherwise)",
    },
    maxCostUsdPerDay: {
      type: ['number', 'null'], exclusiveMinimum: 0, maximum: MAX_GRANT_COST_USD_PER_DAY,
      description: "USD the peer's agents here may spend per UTC day together; past it its spawns wait queued (waitingFor budget, scope peer:<name>); null removes the cap",
    },
  },
} as const;

export const grantsView = {
  type: 'object',
  properties: {
    commands: { type: 'array', items: { type: 'string' } },
    repos: { type: 'array', items: { type: 'string' } },
    runtimes: { type: 'array', items: { type: 'string' } },
    maxActiveAgents: { type: 'integer' },
    shell: { type: 'boolean' },
    network: { type: 'string' },
    projectConfig: { type: 'boolean' },
    baseBranches: { type: 'array', items: { type: 'string' } },
    maxCostUsdPerDay: { type: 'number' },
  },
} as const;

export const connectionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'connection id (uuid); routes also accept the name or the instance id' },
    instanceId: { type: 'string' },
    name: { type: 'string' },
    url: { type: 'string' },
    publicKey: { type: 'string', description: 'base64 of the raw 32-byte Ed25519 key' },
    state: { type: 'string', enum: [...CONNECTION_STATES] },
    direction: { type: 'string', enum: ['inbound', 'outbound'], description: 'outbound: this instance connected to the peer' },
    grants: { ...grantsView, description: 'what the peer may do here' },
    peerGrants: { anyOf: [{ ...grantsView }, { type: 'null' }], description: 'what the peer says this instance may do there (informational)' },
    peerGrantsAt: { type: ['integer', 'null'], description: 'when this instance learned peerGrants (ms): from the connection, or the peer\'s latest grant.changed notice' },
    peerGrantsVersion: { type: 'integer', description: 'the version the peer\'s latest grant.changed notice carried (0: learned when connecting); older notices are ignored' },
    grantsVersion: { type: 'integer', description: 'version of grants, raised at every change; 0 when never changed since connecting' },
    grantsNotified: { type: 'integer', description: 'the grants version the peer has been told of (grant.changed); below grantsVersion while the notice is still being retried' },
    pull: { type: 'boolean', description: "this instance pulls the peer's events (QUERY events) rather than waiting for pushes" },
    contact: {
      type: 'object',
      description: 'GET only: when this instance last heard from the peer (a verified message or answer) and since when it cannot reach it (ms, null when not); in memory since the server started',
      properties: { lastContactAt: { type: ['integer', 'null'] }, unreachableSince: { type: ['integer', 'null'] }, error: { type: ['string', 'null'] } },
    },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

export const connectionParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

export const inviteBody = {
  type: 'object',
  additionalProperties: false,
  required: ['grants'],
  properties: {
    grants: grantsBody,
    ttlS: { type: 'integer', minimum: 1, maximum: MAX_INVITE_TTL_S, description: 'lifetime in seconds (default 900)' },
  },
} as const;

export const inviteResponse = {
  type: 'object',
  properties: {
    token: { type: 'string', description: 'single-use; shown once, stored only as a hash' },
    expiresAt: { type: 'integer', description: 'unix ms' },
  },
} as const;

export const connectBody = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2048, description: "the peer's base URL, e.g. http://spoke:7420" },
    token: { type: 'string', minLength: 1, maxLength: 256, description: "an invite from the peer's admin; without one the peer records a pending request" },
    name: { type: 'string', pattern: NAME_PATTERN, maxLength: 64, description: 'local name for the connection (default: the name the peer announces)' },
    pull: { type: 'boolean', description: 'pull the peer\'s agent events (for a peer that cannot reach this instance, e.g. this one is behind NAT)' },
  },
} as const;

export const acceptBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { grants: grantsBody },
} as const;

/** POST /connections/:id/disconnect: `killAgents` kills this instance's unfinished agents on the peer first. */
export const disconnectBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { killAgents: { type: 'boolean' } },
} as const;

/** The ended connection, and what became of this instance's agents on that peer. */
export const disconnectResponse = {
  ...connectionSchema,
  properties: {
    ...connectionSchema.properties,
    agents: {
      type: 'object',
      description: 'this instance\'s agents on the peer: `killed` before the disconnect (killAgents), `orphaned` (unfinished, '
        + 'left running there: their state here no longer changes; discard --force forgets them), `failed` kills',
      properties: {
        killed: { type: 'array', items: { type: 'string' } },
        orphaned: { type: 'array', items: { type: 'string' } },
        failed: { type: 'array', items: { type: 'object', additionalProperties: true } },
      },
    },
  },
} as const;

export const patchBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    grants: grantsBody,
    name: { type: 'string', pattern: NAME_PATTERN, maxLength: 64 },
    state: { type: 'string', enum: ['suspended', 'active'], description: 'suspend an active connection, or resume a suspended one' },
    pull: { type: 'boolean', description: "pull the peer's agent events" },
    url: { type: 'string', minLength: 1, maxLength: 2048, description: "where the peer is reached now (only its origin is kept; the instance there must have the peer's key)" },
  },
} as const;

export const messageSchema = {
  type: 'object',
  properties: {
    messageId: { type: 'string' },
    direction: { type: 'string', enum: ['in', 'out'] },
    kind: { type: 'string', enum: [...MESSAGE_KINDS] },
    peer: { type: 'string', description: 'instance id (for a refused inbound message: the one it claimed)' },
    peerName: { type: ['string', 'null'] },
    op: { type: ['string', 'null'], description: 'command, query or event name' },
    correlationId: { type: ['string', 'null'] },
    status: { type: 'string', enum: [...MESSAGE_STATUSES] },
    httpStatus: { type: ['integer', 'null'] },
    errorCode: { type: ['string', 'null'] },
    errorMessage: { type: ['string', 'null'] },
    attempts: { type: 'integer' },
    verified: { type: 'boolean' },
    createdAt: { type: 'integer' },
    updatedAt: { type: 'integer' },
  },
} as const;

export const messagesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    direction: { type: 'string', enum: ['in', 'out'] },
    status: { type: 'string', enum: [...MESSAGE_STATUSES] },
    peer: { type: 'string', minLength: 1, maxLength: 128, description: 'connection id, name or instance id' },
    kind: { type: 'string', enum: [...MESSAGE_KINDS] },
    op: { type: 'string', minLength: 1, maxLength: 64, description: 'only this command, query or event (e.g. agent.spawn)' },
    logs: { type: 'string', enum: ['1', '0', 'true', 'false'], description: 'include log reads (agent.logs), left out by default' },
    limit: { type: 'integer', minimum: 1, maximum: MAX_MESSAGES_LIMIT },
  },
} as const;

export const instanceSchema = {
  type: 'object',
  required: ['instanceId', 'name', 'url', 'publicKey', 'protocolVersion', 'capabilities'],
  properties: {
    instanceId: { type: 'string' },
    name: { type: 'string' },
    url: { type: 'string' },
    publicKey: { type: 'string', description: 'base64 of the raw 32-byte Ed25519 key' },
    protocolVersion: { type: 'string' },
    capabilities: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const envelopeSchema = {
  type: 'object',
  required: ['v', 'id', 'kind', 'from', 'to', 'ts', 'body'],
  properties: {
    v: { type: 'integer', enum: [1] },
    id: { type: 'string', format: 'uuid' },
    kind: { type: 'string', enum: [...MESSAGE_KINDS] },
    from: { type: 'string', description: 'sender instance id' },
    to: { type: 'string', description: 'receiver instance id' },
    ts: { type: 'integer', description: 'unix ms' },
    correlationId: { type: 'string' },
    body: { type: 'object', additionalProperties: true },
  },
} as const;
