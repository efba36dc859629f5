import type { PublicAgent } from '../../agents/index.js';
import type { ConnectionState, Grants, InboundKind, MessageKind } from '../protocol/index.js';

export type Direction = 'inbound' | 'outbound';

/** One peer instance, as this side knows it (DESIGN §4 "Connections"). */
export interface ConnectionRecord {
  id: string;
  instanceId: string;
  name: string;
  /** Base URL of the peer. */
  url: string;
  /** Base64 of the peer's raw 32-byte Ed25519 key. */
  publicKey: string;
  state: ConnectionState;
  /** Who asked first: `outbound` when this instance connected to the peer. */
  direction: Direction;
  /** What the peer may do here; set by this side's admin. */
  grants: Grants;
  /** What the peer said this instance may do there; informational. */
  peerGrants: Grants | null;
  /** This instance pulls the peer's events (for a peer that cannot reach this instance). */
  pull: boolean;
  /** The peer's last event seq pulled so far. */
  pullAfter: number;
  /** Version of `grants`, raised at every change (never below the wall clock in ms, so it only grows). */
  grantsVersion: number;
  /** The version of `grants` the peer has been told of (grant.changed), 0 when none. */
  grantsNotified: number;
  /** The version of `peerGrants` the peer's last grant.changed notice carried, 0 when learned otherwise. */
  peerGrantsVersion: number;
  /** When this instance learned `peerGrants` (ms), null when it knows none. */
  peerGrantsAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export type ConnectionPatch = Partial<Pick<ConnectionRecord,
  'name' | 'url' | 'publicKey' | 'state' | 'direction' | 'grants' | 'peerGrants' | 'pull' | 'pullAfter' | 'grantsVersion' | 'peerGrantsVersion' | 'peerGrantsAt'>>;

export interface InviteRecord {
  tokenHash: string;
  grants: Grants;
  expiresAt: number;
  usedAt: number | null;
  /** Instance id of the peer that used it. */
  usedBy: string | null;
  createdAt: number;
}

export const MESSAGE_STATUSES = ['pending', 'delivered', 'failed', 'timeout'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export type MessageDirection = 'in' | 'out';

/** A sent or received message, as the message list shows it. Never holds bodies (they may carry tokens and prompts). */
export interface MessageRecord {
  messageId: string;
  direction: MessageDirection;
  kind: MessageKind;
  /** The peer's instance id (for a rejected inbound message: the id it claimed). */
  peer: string;
  /** The command, query or event name. */
  op: string | null;
  correlationId: string | null;
  status: MessageStatus;
  httpStatus: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
  /** False for inbound messages refused before their signature was verified. */
  verified: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface MessageFilter {
  direction?: MessageDirection;
  status?: MessageStatus;
  peer?: string;
  kind?: MessageKind;
  /** Only this command, query or event name. */
  op?: string;
  /** Not these (the admin's default view leaves out log reads: a remote `logs -f` makes one per wait). */
  excludeOps?: readonly string[];
  limit?: number;
}

/** The stored answer to a message's first delivery. */
export interface SeenResponse {
  status: number;
  bytes: Buffer;
  signature: string;
}

export interface OutboxRow {
  peer: string;
  seq: number;
  agentId: string;
  attempts: number;
  nextAttemptAt: number;
}

export interface MirrorEntry {
  agent: PublicAgent;
  instanceId: string;
  lastSeq: number;
}

export type { InboundKind };
