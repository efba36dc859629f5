import { randomUUID } from 'node:crypto';
import { sql } from '../../store/kysely.js';
import { conflict } from '../../core/errors.js';
import { isUniqueViolation, type SqlContext } from '../../store/index.js';
import { INSTANCE_ID_RE, type ConnectionState, type Grants } from '../protocol/index.js';
import type { FederationTables } from './schema.js';
import type { ConnectionPatch, ConnectionRecord, Direction } from './types.js';

type ConnectionRow = Omit<FederationTables['federation_connections'], 'rowid'>;
function toRecord(row: ConnectionRow): ConnectionRecord {
  return {
    id: row.id,
    instanceId: row.instance_id,
    name: row.name,
    url: row.url,
    publicKey: row.public_key,
    state: row.state as ConnectionState,
    direction: row.direction as Direction,
    grants: JSON.parse(row.grants) as Grants,
    peerGrants: row.peer_grants === null ? null : (JSON.parse(row.peer_grants) as Grants),
    pull: row.pull === 1,
    pullAfter: row.pull_after,
    grantsVersion: row.grants_version,
    grantsNotified: row.grants_notified,
    peerGrantsVersion: row.peer_grants_version,
    peerGrantsAt: row.peer_grants_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRow(c: ConnectionRecord): ConnectionRow {
  return {
    id: c.id,
    instance_id: c.instanceId,
    name: c.name,
    url: c.url,
    public_key: c.publicKey,
    state: c.state,
    direction: c.direction,
    grants: JSON.stringify(c.grants),
    peer_grants: c.peerGrants === null ? null : JSON.stringify(c.peerGrants),
    pull: c.pull ? 1 : 0,
    pull_after: c.pullAfter,
    grants_version: c.grantsVersion,
    grants_notified: c.grantsNotified,
    peer_grants_version: c.peerGrantsVersion,
    peer_grants_at: c.peerGrantsAt,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

/** The `federation_connections` table: one record per peer instance. */
export class SqlConnectionStore {
  constructor(private readonly ctx: SqlContext<FederationTables>) {}

  private async one(column: 'id' | 'instance_id' | 'name', value: string): Promise<ConnectionRecord | undefined> {
    const row = await this.ctx.db.selectFrom('federation_connections').selectAll().where(column, '=', value).executeTakeFirst();
    return row && toRecord(row);
  }

  get(id: string): Promise<ConnectionRecord | undefined> {
    return this.one('id', id);
  }

  byInstance(instanceId: string): Promise<ConnectionRecord | undefined> {
    return this.one('instance_id', instanceId);
  }

  byName(name: string): Promise<ConnectionRecord | undefined> {
    return this.one('name', name);
  }

  /**
   * A connection by id, instance id or name (what admin routes accept in
   * `:id`). An instance-id-shaped ref is looked up as an instance id first,
   * so no peer can shadow another by announcing that id as its name.
   */
  async resolve(ref: string): Promise<ConnectionRecord | undefined> {
    if (INSTANCE_ID_RE.test(ref)) return (await this.byInstance(ref)) ?? this.get(ref);
    return (await this.get(ref)) ?? this.byName(ref);
  }

  async list(): Promise<ConnectionRecord[]> {
    const rows = await this.ctx.db.selectFrom('federation_connections').selectAll().orderBy('created_at').orderBy('rowid').execute();
    return rows.map(toRecord);
  }

  async insert(fields: Omit<ConnectionRecord, 'id' | 'createdAt' | 'updatedAt' | 'pull' | 'pullAfter' | GrantNoticeFields> & Partial<Pick<ConnectionRecord, 'pull'>>): Promise<ConnectionRecord> {
    const at = this.ctx.now();
    const record: ConnectionRecord = {
      pull: false, pullAfter: 0, grantsVersion: 0, grantsNotified: 0, peerGrantsVersion: 0, peerGrantsAt: fields.peerGrants ? at : null,
      ...fields, id: randomUUID(), createdAt: at, updatedAt: at,
    };
    try {
      await this.ctx.db.insertInto('federation_connections').values(toRow(record)).execute();
    } catch (err) {
      throw uniqueViolation(err, record);
    }
    return record;
  }

  async update(id: string, patch: ConnectionPatch): Promise<ConnectionRecord | undefined> {
    const current = await this.get(id);
    if (!current) return undefined;
    const at = this.ctx.now();
    const next: ConnectionRecord = { ...current, ...definedOnly(patch), updatedAt: at };
    // Whatever told this instance what the peer grants it (CONNECT, its answer, a notice), that is when it learned it.
    if (patch.peerGrants !== undefined && patch.peerGrantsAt === undefined) next.peerGrantsAt = patch.peerGrants === null ? null : at;
    // grants_notified is written only by markGrantsNotified, so an update of other fields never moves it back.
    const { id: _id, grants_notified: _notified, ...columns } = toRow(next);
    try {
      await this.ctx.db.updateTable('federation_connections').set(columns).where('id', '=', id).execute();
    } catch (err) {
      throw uniqueViolation(err, next);
    }
    return next;
  }

  /** The peer has been told of grants version `version` (never moves back). */
  async markGrantsNotified(id: string, version: number): Promise<void> {
    await this.ctx.db.updateTable('federation_connections')
      .set({ grants_notified: sql<number>`CASE WHEN grants_notified > ${version} THEN grants_notified ELSE ${version} END` })
      .where('id', '=', id).execute();
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('federation_connections').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

type GrantNoticeFields = 'grantsVersion' | 'grantsNotified' | 'peerGrantsVersion' | 'peerGrantsAt';

function definedOnly(patch: ConnectionPatch): ConnectionPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as ConnectionPatch;
}

function uniqueViolation(err: unknown, record: ConnectionRecord): unknown {
  if (!isUniqueViolation(err)) return err;
  if (isUniqueViolation(err, { sqliteColumn: '.name', pgConstraint: 'federation_connections_name_key' })) {
    return conflict('name_taken', `a connection named '${record.name}' already exists`, { field: 'name' });
  }
  return conflict('connection_exists', `a connection with instance ${record.instanceId} already exists`);
}
