import { conflict, invalid, MosaicError, notFound } from '../../core/errors.js';
import { connectBody, targetOf, type FederationContext } from '../context.js';
import { fetchInstanceDoc, type PeerContact } from '../outbound/index.js';
import {
  createInviteToken, DEFAULT_INVITE_TTL_S, defaultGrants, parseConnectResult, peerOrigin, validateGrants, type Grants,
} from '../protocol/index.js';
import type { ConnectionPatch, ConnectionRecord } from '../store/index.js';
import { uniqueName } from './names.js';

export const MAX_INVITE_TTL_S = 7 * 24 * 3600;

export interface ConnectRequest {
  url: string;
  token?: string;
  name?: string;
  /** Pull the peer's events instead of relying on its pushes (the peer cannot reach this instance). */
  pull?: boolean;
}

export interface ConnectionUpdate {
  grants?: unknown;
  name?: string;
  state?: 'suspended' | 'active';
  pull?: boolean;
  /** Where the peer is reached now; the instance there must be the same peer (same key). */
  url?: string;
}

/** What an admin does with connections (DESIGN §4 "Connections"); the HTTP routes call this and nothing below it. */
export class ConnectionService {
  constructor(private readonly ctx: FederationContext) {}

  /** A single-use invite; only its hash is stored, the token is returned once and never logged. */
  async createInvite(grants: unknown, ttlS: number = DEFAULT_INVITE_TTL_S): Promise<{ token: string; expiresAt: number }> {
    if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > MAX_INVITE_TTL_S) {
      throw invalid('invalid_ttl_s', `ttlS must be an integer from 1 to ${MAX_INVITE_TTL_S}`, { field: 'ttlS' });
    }
    const checked = validateGrants(grants, defaultGrants());
    const { token, tokenHash } = createInviteToken();
    const now = Date.now();
    const expiresAt = now + ttlS * 1000;
    await this.ctx.store.invites.insert(tokenHash, checked, expiresAt, now);
    return { token, expiresAt };
  }

  list(): Promise<ConnectionRecord[]> {
    return this.ctx.store.connections.list();
  }

  /** The record with when the peer was last heard from and since when it cannot be reached (see outbound/contacts.ts). */
  withContact(conn: ConnectionRecord): ConnectionRecord & { contact: PeerContact } {
    return { ...conn, contact: this.ctx.contacts.get(conn.instanceId) };
  }

  async resolve(ref: string): Promise<ConnectionRecord> {
    const conn = await this.ctx.store.connections.resolve(ref);
    if (!conn) throw notFound('connection_not_found', `no connection '${ref}'`);
    return conn;
  }

  /**
   * Connects to a peer: reads its identity, records the connection as
   * pending, sends a signed CONNECT (with the invite token, if any) and
   * takes the state the peer answers — `active` with an invite, `pending`
   * until the peer's admin accepts otherwise.
   */
  async connect(req: ConnectRequest): Promise<ConnectionRecord> {
    const { ctx } = this;
    const connections = ctx.store.connections;
    const doc = await fetchInstanceDoc(req.url, ctx.config.fedTimeoutMs);
    if (doc.instanceId === ctx.identity.instanceId) throw invalid('self_connection', 'that URL is this instance', { field: 'url' });
    const before = await connections.byInstance(doc.instanceId);
    if (before?.state === 'active') throw alreadyConnected(before.name, before.id);
    if (before?.state === 'suspended') {
      throw conflict('connection_suspended', `the connection with ${before.name} is suspended; resume it instead`, { connection: before.id });
    }
    if (req.name !== undefined) {
      const holder = await connections.byName(req.name);
      if (holder && holder.id !== before?.id) throw conflict('name_taken', `a connection named '${req.name}' already exists`, { field: 'name' });
    }
    const name = req.name ?? before?.name ?? await uniqueName(connections, doc.name);
    const fields = {
      name, url: peerOrigin(req.url) ?? req.url, publicKey: doc.publicKey, state: 'pending' as const, direction: 'outbound' as const,
      ...(req.pull === undefined ? {} : { pull: req.pull }),
    };
    // Recorded before sending, so a peer that answers (or accepts) at once finds the connection it answers.
    const record = before
      ? (await connections.update(before.id, fields))!
      : await connections.insert({ ...fields, instanceId: doc.instanceId, grants: defaultGrants(), peerGrants: null });
    try {
      const result = parseConnectResult(await ctx.messenger.send(targetOf(record), 'CONNECT', connectBody(ctx, record.grants, req.token), { op: 'connect' }));
      if (result.instance.instanceId !== doc.instanceId || result.instance.publicKey !== doc.publicKey) {
        throw new MosaicError(502, 'response_mismatch', 'the peer answered for another instance');
      }
      const connected = (await connections.update(record.id, { state: result.state, peerGrants: result.grants ?? null }))!;
      ctx.logger.info({ peer: connected.instanceId, name: connected.name, state: connected.state }, 'federation connection');
      ctx.wakeOutbox(connected.instanceId);
      return connected;
    } catch (err) {
      if (before) {
        const { name: n, url, publicKey, state, direction, grants, peerGrants, pull } = before;
        await connections.update(before.id, { name: n, url, publicKey, state, direction, grants, peerGrants, pull });
      }
      else await connections.remove(record.id);
      throw err;
    }
  }

  /** Accepts a pending request: active here, and a signed CONNECT tells the peer, whose pending record becomes active. */
  async accept(ref: string, grants?: unknown): Promise<ConnectionRecord> {
    const conn = await this.resolve(ref);
    if (conn.state !== 'pending' || conn.direction !== 'inbound') {
      throw conflict('invalid_transition', `only a pending request can be accepted; ${conn.name} is ${conn.state} (${conn.direction})`, { state: conn.state });
    }
    const nextGrants: Grants = grants === undefined ? conn.grants : validateGrants(grants, conn.grants);
    const active = (await this.ctx.store.connections.update(conn.id, { state: 'active', grants: nextGrants }))!;
    try {
      const result = parseConnectResult(await this.ctx.messenger.send(targetOf(active), 'CONNECT', connectBody(this.ctx, nextGrants), { op: 'accept' }));
      return (await this.ctx.store.connections.update(conn.id, { peerGrants: result.grants ?? null }))!;
    } catch (err) {
      await this.ctx.store.connections.update(conn.id, { state: 'pending', grants: conn.grants });
      throw err;
    }
  }

  /** Rejects a pending request; the peer is told (best effort) so its record ends `rejected` too. */
  async reject(ref: string): Promise<ConnectionRecord> {
    const conn = await this.resolve(ref);
    if (conn.state !== 'pending' || conn.direction !== 'inbound') {
      throw conflict('invalid_transition', `only a pending request can be rejected; ${conn.name} is ${conn.state} (${conn.direction})`, { state: conn.state });
    }
    const rejected = (await this.ctx.store.connections.update(conn.id, { state: 'rejected' }))!;
    await this.tell(rejected, 'rejected');
    return rejected;
  }

  /** Ends the connection here at once, then tells the peer (best effort, tracked in the message list). */
  async disconnect(ref: string): Promise<ConnectionRecord> {
    const conn = await this.resolve(ref);
    if (conn.state === 'disconnected' || conn.state === 'rejected') return conn;
    const ended = (await this.ctx.store.connections.update(conn.id, { state: 'disconnected' }))!;
    await this.tell(ended, 'disconnected');
    return ended;
  }

  async update(ref: string, change: ConnectionUpdate): Promise<ConnectionRecord> {
    const conn = await this.resolve(ref);
    const patch: ConnectionPatch = {};
    if (change.url !== undefined) {
      const url = peerOrigin(change.url);
      if (url === undefined) throw invalid('invalid_url', 'url must be an http(s) URL without credentials', { field: 'url' });
      const doc = await fetchInstanceDoc(url, this.ctx.config.fedTimeoutMs);
      if (doc.instanceId !== conn.instanceId) {
        throw conflict('peer_mismatch', `${url} is instance ${doc.instanceId}, not ${conn.name} (${conn.instanceId})`, { field: 'url', instanceId: doc.instanceId });
      }
      patch.url = url;
    }
    if (change.grants !== undefined) {
      patch.grants = validateGrants(change.grants, conn.grants);
      // A real change is owed to the peer as a signed grant.changed notice (sent by the outbox worker, retried until told).
      if (JSON.stringify(patch.grants) !== JSON.stringify(conn.grants)) patch.grantsVersion = Math.max(Date.now(), conn.grantsVersion + 1);
    }
    if (change.name !== undefined && change.name !== conn.name) patch.name = change.name;
    if (change.pull !== undefined) patch.pull = change.pull;
    if (change.state !== undefined && change.state !== conn.state) {
      const from = change.state === 'suspended' ? 'active' : 'suspended';
      if (conn.state !== from) {
        throw conflict('invalid_transition', `a ${conn.state} connection cannot become ${change.state}`, { state: conn.state });
      }
      patch.state = change.state;
    }
    const updated = (await this.ctx.store.connections.update(conn.id, patch))!;
    if (updated.state === 'active') this.ctx.wakeOutbox(updated.instanceId);
    return updated;
  }

  private async tell(conn: ConnectionRecord, reason: 'rejected' | 'disconnected'): Promise<void> {
    try {
      await this.ctx.messenger.send(targetOf(conn), 'DISCONNECT', { reason }, { op: reason });
    } catch (err) {
      // Our side has ended it whatever the peer says: its messages are refused from now on.
      this.ctx.logger.warn({ peer: conn.instanceId, code: (err as MosaicError).code }, 'peer was not told of the disconnect');
    }
  }
}

/**
 * Connecting again to a peer this instance is connected to (from either
 * side) says why that is not needed (issue 22, defect 7): one connection
 * serves both directions, and each side grants the other what it may do.
 */
function alreadyConnected(name: string, connection: string) {
  return conflict('already_connected', `already connected to ${name}: one connection serves both directions and each side grants the other. `
    + `To let ${name}'s agents run here: 'mosaic peers grant ${name} --repos … --max-agents …' on this instance; `
    + `to run agents on ${name}: its admin grants this instance there ('mosaic peers grant <this instance's name there> …')`, { connection });
}
