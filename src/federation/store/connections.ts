import { randomUUID } from 'node:crypto';
import { conflict } from '../../core/errors.js';
import type { SqliteDatabase } from '../../store/sqlite/index.js';
import { INSTANCE_ID_RE, type ConnectionState, type Grants } from '../protocol/index.js';
import type { ConnectionPatch, ConnectionRecord, Direction } from './types.js';

interface ConnectionRow {
  id: string;
  instance_id: string;
  name: string;
  url: string;
  public_key: string;
  state: string;
  direction: string;
  grants: string;
  peer_grants: string | null;
  pull: number;
  pull_after: number;
  grants_version: number;
  grants_notified: number;
  peer_grants_version: number;
  peer_grants_at: number | null;
  created_at: number;
  updated_at: number;
}

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

const COLUMNS = ['id', 'instance_id', 'name', 'url', 'public_key', 'state', 'direction', 'grants', 'peer_grants', 'pull', 'pull_after',
  'grants_version', 'peer_grants_version', 'peer_grants_at', 'created_at', 'updated_at'];
/** grants_notified is written only by markGrantsNotified, so an update of other fields never moves it back. */
const INSERT_COLUMNS = [...COLUMNS, 'grants_notified'];

/** The `federation_connections` table: one record per peer instance. */
export class SqliteConnectionStore {
  private readonly byIdStmt;
  private readonly byInstanceStmt;
  private readonly byNameStmt;
  private readonly listStmt;
  private readonly insertStmt;
  private readonly updateStmt;
  private readonly removeStmt;
  private readonly notifiedStmt;

  constructor(db: SqliteDatabase, private readonly now: () => number = Date.now) {
    this.byIdStmt = db.prepare<[string], ConnectionRow>('SELECT * FROM federation_connections WHERE id = ?');
    this.byInstanceStmt = db.prepare<[string], ConnectionRow>('SELECT * FROM federation_connections WHERE instance_id = ?');
    this.byNameStmt = db.prepare<[string], ConnectionRow>('SELECT * FROM federation_connections WHERE name = ?');
    this.listStmt = db.prepare<[], ConnectionRow>('SELECT * FROM federation_connections ORDER BY created_at, rowid');
    this.insertStmt = db.prepare<[ConnectionRow]>(
      `INSERT INTO federation_connections (${INSERT_COLUMNS.join(', ')}) VALUES (${INSERT_COLUMNS.map((c) => `@${c}`).join(', ')})`);
    this.notifiedStmt = db.prepare<[number, string]>(
      'UPDATE federation_connections SET grants_notified = max(grants_notified, ?) WHERE id = ?');
    this.updateStmt = db.prepare<[ConnectionRow]>(
      `UPDATE federation_connections SET ${COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`);
    this.removeStmt = db.prepare<[string]>('DELETE FROM federation_connections WHERE id = ?');
  }

  get(id: string): ConnectionRecord | undefined {
    const row = this.byIdStmt.get(id);
    return row && toRecord(row);
  }

  byInstance(instanceId: string): ConnectionRecord | undefined {
    const row = this.byInstanceStmt.get(instanceId);
    return row && toRecord(row);
  }

  byName(name: string): ConnectionRecord | undefined {
    const row = this.byNameStmt.get(name);
    return row && toRecord(row);
  }

  /** By connection id, then name, then instance id: what admin routes accept in `:id`. */
  /**
   * A connection by id, instance id or name. An instance-id-shaped ref is
   * looked up as an instance id first, so no peer can shadow another by
   * announcing that id as its name.
   */
  resolve(ref: string): ConnectionRecord | undefined {
    if (INSTANCE_ID_RE.test(ref)) return this.byInstance(ref) ?? this.get(ref);
    return this.get(ref) ?? this.byName(ref);
  }

  list(): ConnectionRecord[] {
    return this.listStmt.all().map(toRecord);
  }

  insert(fields: Omit<ConnectionRecord, 'id' | 'createdAt' | 'updatedAt' | 'pull' | 'pullAfter' | GrantNoticeFields> & Partial<Pick<ConnectionRecord, 'pull'>>): ConnectionRecord {
    const at = this.now();
    const record: ConnectionRecord = {
      pull: false, pullAfter: 0, grantsVersion: 0, grantsNotified: 0, peerGrantsVersion: 0, peerGrantsAt: fields.peerGrants ? at : null,
      ...fields, id: randomUUID(), createdAt: at, updatedAt: at,
    };
    try {
      this.insertStmt.run(toRow(record));
    } catch (err) {
      throw uniqueViolation(err, record);
    }
    return record;
  }

  update(id: string, patch: ConnectionPatch): ConnectionRecord | undefined {
    const current = this.get(id);
    if (!current) return undefined;
    const at = this.now();
    const next: ConnectionRecord = { ...current, ...definedOnly(patch), updatedAt: at };
    // Whatever told this instance what the peer grants it (CONNECT, its answer, a notice), that is when it learned it.
    if (patch.peerGrants !== undefined && patch.peerGrantsAt === undefined) next.peerGrantsAt = patch.peerGrants === null ? null : at;
    try {
      this.updateStmt.run(toRow(next));
    } catch (err) {
      throw uniqueViolation(err, next);
    }
    return next;
  }

  /** The peer has been told of grants version `version` (never moves back). */
  markGrantsNotified(id: string, version: number): void {
    this.notifiedStmt.run(version, id);
  }

  remove(id: string): boolean {
    return this.removeStmt.run(id).changes > 0;
  }
}

type GrantNoticeFields = 'grantsVersion' | 'grantsNotified' | 'peerGrantsVersion' | 'peerGrantsAt';

function definedOnly(patch: ConnectionPatch): ConnectionPatch {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as ConnectionPatch;
}

function uniqueViolation(err: unknown, record: ConnectionRecord): unknown {
  const e = err as { code?: unknown; message?: unknown };
  if (e.code !== 'SQLITE_CONSTRAINT_UNIQUE') return err;
  if (String(e.message).includes('.name')) return conflict('name_taken', `a connection named '${record.name}' already exists`, { field: 'name' });
  return conflict('connection_exists', `a connection with instance ${record.instanceId} already exists`);
}
