import type { AgentService, EventBus } from '../agents/index.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { SqlStore } from '../store/index.js';
import type { Identity } from './identity/index.js';
import type { Messenger, PeerContacts, PeerTarget } from './outbound/index.js';
import { PROTOCOL_VERSION, type ConnectResult } from './protocol/index.js';
import type { ConnectionRecord, FederationStore } from './store/index.js';

/** This instance as peers see it. `url` is set once the server listens (port 0 learns its port then). */
export interface SelfInfo {
  instanceId: string;
  name: string;
  url: string;
  publicKey: string;
}

/** What the federation parts share; built once by createFederation. */
export interface FederationContext {
  config: Config;
  identity: Identity;
  self: SelfInfo;
  store: FederationStore;
  core: SqlStore;
  agents: AgentService;
  bus: EventBus;
  logger: Logger;
  messenger: Messenger;
  /** When each peer was last heard from, and since when it cannot be reached. */
  contacts: PeerContacts;
  /** Nudges the outbox worker of a peer (a transition happened, or the peer is reachable again). */
  wakeOutbox(peer?: string): void;
  /** Aborted when the server starts closing: long polls answer at once. */
  closing: AbortSignal;
}

export function targetOf(c: ConnectionRecord): PeerTarget {
  return { instanceId: c.instanceId, url: c.url, publicKey: c.publicKey, name: c.name };
}

export function instanceInfo(self: SelfInfo): ConnectResult['instance'] {
  return { instanceId: self.instanceId, name: self.name, url: self.url, publicKey: self.publicKey };
}

/** The CONNECT body this instance sends; `grants` tells the peer what it may do here. */
export function connectBody(ctx: FederationContext, grants: ConnectionRecord['grants'], token?: string): Record<string, unknown> {
  return {
    name: ctx.self.name,
    url: ctx.self.url,
    publicKey: ctx.self.publicKey,
    protocolVersion: PROTOCOL_VERSION,
    grants,
    ...(token === undefined ? {} : { token }),
  };
}
