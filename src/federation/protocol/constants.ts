/** Protocol version advertised in `federation/instance` and in CONNECT bodies. */
export const PROTOCOL_VERSION = '1';

/** The envelope's own `v` field: the shape every message on the wire has. */
export const ENVELOPE_VERSION = 1;

/** Largest request or response body a peer may send, before any parsing. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** How far a message's `ts` may be from the receiver's clock, either way. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * How long a receiver remembers message ids. A message is accepted while its
 * `ts` is within ±CLOCK_SKEW_MS of now, i.e. for up to 2× the skew after it
 * first arrives; remembering ids longer than that means a replay is always
 * either expired or recognised.
 */
export const REPLAY_WINDOW_MS = 15 * 60_000;

export const SIGNATURE_HEADER = 'mosaic-signature';

/** Base path of the public endpoints that accept signed peer traffic. */
export const INCOMING_PATH = '/api/v1/federation/incoming';

/** `agent.diff` extends DESIGN §4's list: a hub shows the work of its remote agents as it does for local ones. */
/** `agent.bundle` (DESIGN §4): the agent's branch as a git bundle relative to its base, so its work can come home. */
export const COMMANDS = ['agent.spawn', 'agent.status', 'agent.kill', 'agent.list', 'agent.logs', 'agent.diff', 'agent.bundle'] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * `agent.reply {agentId, prompt}` (issue 22): a follow-up of an agent the
 * peer spawned here. It starts an agent, so it is granted with
 * `agent.spawn` and passes every check a spawn does (repo, runtime,
 * maxActiveAgents, env and permission powers); it is not a grant of its
 * own, so grants made before it existed allow it exactly when they allow
 * spawns.
 */
export const SPAWN_GRANTED_COMMANDS = ['agent.reply'] as const;

/** Every command a COMMAND message may carry: the grantable ones and those granted with agent.spawn. */
export const WIRE_COMMANDS = [...COMMANDS, ...SPAWN_GRANTED_COMMANDS] as const;
export type WireCommand = (typeof WIRE_COMMANDS)[number];

/** The grant a command needs. */
export const grantFor = (command: WireCommand): Command => (command === 'agent.reply' ? 'agent.spawn' : command);

export const QUERIES = ['agents', 'instance', 'events'] as const;
export type QueryName = (typeof QUERIES)[number];

/** `agent.progress` (a claude agent's live progress) extends DESIGN §4's list, so hubs see remote progress too. */
export const EVENTS = ['agent.state', 'agent.progress'] as const;
export type EventName = (typeof EVENTS)[number];

/**
 * EVENTs about a connection rather than an agent. `grant.changed`: the
 * sender's admin changed what the receiver may do at the sender; the
 * receiver keeps it as `peerGrants` (informational, it decides nothing there).
 */
export const GRANT_CHANGED = 'grant.changed';

export const RUNTIME_KINDS = ['claude', 'codex', 'gemini', 'opencode', 'command'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

/** DESIGN §4: pending → active → disconnected, pending → rejected, active ↔ suspended. */
export const CONNECTION_STATES = ['pending', 'active', 'suspended', 'rejected', 'disconnected'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** Instance ids are base32 of 20 bytes: always 32 characters. */
export const INSTANCE_ID_RE = /^[a-z2-7]{32}$/;

/** Message ids are lowercase canonical UUIDs, so one id has exactly one spelling in the replay cache. */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
