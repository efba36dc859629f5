import { sql, type Selectable } from '../../store/kysely.js';
import type { SqlContext } from '../../store/index.js';
import type { MessageKind } from '../protocol/index.js';
import type { FederationTables } from './schema.js';
import type { MessageDirection, MessageFilter, MessageRecord, MessageStatus } from './types.js';

type MessageRow = Selectable<FederationTables['federation_messages']>;

function toRecord(row: MessageRow): MessageRecord {
  return {
    messageId: row.message_id,
    direction: row.direction as MessageDirection,
    kind: row.kind as MessageKind,
    peer: row.peer,
    op: row.op,
    correlationId: row.correlation_id,
    status: row.status as MessageStatus,
    httpStatus: row.http_status,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    attempts: row.attempts,
    verified: row.verified === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface MessageStart {
  messageId: string;
  direction: MessageDirection;
  kind: MessageKind;
  peer: string;
  op?: string | null;
  correlationId?: string | null;
  verified: boolean;
}

export interface MessageOutcome {
  status: MessageStatus;
  httpStatus?: number | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  /** Attempts this outcome adds (an outbound send's tries). */
  attempts?: number;
}

export const DEFAULT_MESSAGES_LIMIT = 100;
export const MAX_MESSAGES_LIMIT = 1000;

/**
 * The `federation_messages` table: every sent and received message and its
 * status. A message is one row however often it is tried or repeated.
 */
export class SqlMessageStore {
  constructor(private readonly ctx: SqlContext<FederationTables>) {}

  async start(m: MessageStart): Promise<void> {
    const at = this.ctx.now();
    const values = {
      message_id: m.messageId, direction: m.direction, kind: m.kind, peer: m.peer, op: m.op ?? null, correlation_id: m.correlationId ?? null,
      status: 'pending', attempts: 0, verified: m.verified ? 1 : 0, created_at: at, updated_at: at,
    };
    const insert = this.ctx.db.insertInto('federation_messages').values(values);
    // A repeat of a known message (a retry, an outbox re-send) goes back to pending on the same row.
    if (m.verified) {
      await insert.onConflict((oc) => oc.columns(['direction', 'peer', 'message_id']).doUpdateSet({ status: 'pending', verified: 1, updated_at: at })).execute();
    } else {
      // A message refused before its signature was checked may claim any sender and id: it never overwrites a row.
      await insert.onConflict((oc) => oc.doNothing()).execute();
    }
  }

  async finish(m: Pick<MessageStart, 'messageId' | 'direction' | 'peer' | 'verified'>, outcome: MessageOutcome): Promise<void> {
    await this.ctx.db.updateTable('federation_messages').set({
      status: outcome.status,
      http_status: outcome.httpStatus ?? null,
      error_code: outcome.errorCode ?? null,
      error_message: outcome.errorMessage?.slice(0, 1000) ?? null,
      attempts: sql`attempts + ${outcome.attempts ?? 1}`,
      updated_at: this.ctx.now(),
    }).where('direction', '=', m.direction).where('peer', '=', m.peer).where('message_id', '=', m.messageId)
      .where('verified', '=', m.verified ? 1 : 0).execute();
  }

  /** Newest first. */
  async list(filter: MessageFilter = {}): Promise<MessageRecord[]> {
    let q = this.ctx.db.selectFrom('federation_messages').selectAll();
    for (const key of ['direction', 'status', 'peer', 'kind', 'op'] as const) {
      const value = filter[key];
      if (value !== undefined) q = q.where(key, '=', value);
    }
    const excluded = filter.excludeOps ?? [];
    if (excluded.length > 0) q = q.where((eb) => eb.or([eb('op', 'is', null), eb('op', 'not in', [...excluded])]));
    const limit = Math.min(Math.max(1, Math.floor(filter.limit ?? DEFAULT_MESSAGES_LIMIT)), MAX_MESSAGES_LIMIT);
    return (await q.orderBy('seq', 'desc').limit(limit).execute()).map(toRecord);
  }

  async prune(before: number): Promise<number> {
    const result = await this.ctx.db.deleteFrom('federation_messages').where('updated_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Keeps the newest `keep` messages (and any still pending: a message still pending is never dropped under its sender). */
  async cap(keep: number): Promise<number> {
    const result = await this.ctx.db.deleteFrom('federation_messages').where('status', '<>', 'pending')
      .where((eb) => eb('seq', '<=', eb.selectFrom('federation_messages').select('seq').orderBy('seq', 'desc').limit(1).offset(keep)))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Keeps only the newest `keep` refused-unverified messages: anyone can
   * send those, so their number must not grow with what strangers send.
   */
  async trimUnverified(keep: number): Promise<number> {
    const result = await this.ctx.db.deleteFrom('federation_messages').where('verified', '=', 0)
      .where((eb) => eb('seq', '<=', eb.selectFrom('federation_messages').select('seq').where('verified', '=', 0).orderBy('seq', 'desc').limit(1).offset(keep)))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
