import type { FederationContext } from '../context.js';
import {
  GRANT_CHANGED, parseCommandBody, parseDisconnectBody, parseEventBody, parseQueryBody, type PeerRecord, type VerifiedInbound,
} from '../protocol/index.js';
import { parseRemoteAgent } from '../remote/agent-shape.js';
import type { RemoteMirror } from '../remote/mirror.js';
import type { ConnectionRecord } from '../store/index.js';
import { CommandHandler } from './commands.js';
import { handleConnect, handleDisconnect } from './connect.js';
import { applyGrantNotice } from './grant-notice.js';
import { handleQuery } from './queries.js';

/** A connection as the receiver's check pipeline sees it. */
export interface Peer extends PeerRecord {
  connection: ConnectionRecord;
}

/** Runs a verified message (signature, connection state and replay already checked) and returns its result. */
export class Dispatcher {
  private readonly commands: CommandHandler;

  constructor(private readonly ctx: FederationContext, private readonly mirror: RemoteMirror) {
    this.commands = new CommandHandler(ctx);
  }

  async dispatch({ envelope, peer, connect }: VerifiedInbound<Peer>, source?: string): Promise<unknown> {
    if (envelope.kind === 'CONNECT') return handleConnect(this.ctx, envelope.from, connect!, peer?.connection, source);
    // verifyInbound returns a peer for every other kind.
    const connection = peer!.connection;
    switch (envelope.kind) {
      case 'DISCONNECT':
        return handleDisconnect(this.ctx, connection, parseDisconnectBody(envelope.body).reason);
      case 'COMMAND':
        return this.commands.handle(connection, parseCommandBody(envelope.body), envelope.id);
      case 'QUERY':
        return handleQuery(this.ctx, connection, parseQueryBody(envelope.body));
      case 'EVENT': {
        const body = parseEventBody(envelope.body);
        if (body.event === GRANT_CHANGED) return applyGrantNotice(this.ctx, connection, body);
        return this.mirror.applyEvent(body.event, connection, parseRemoteAgent(body.agent), body.seq);
      }
      default:
        throw new TypeError(`no handler for ${envelope.kind}`);
    }
  }
}
