import type { Generated } from 'kysely';
import type { CoreTables } from '../../store/index.js';

/** The federation's tables as the query layer sees them (same conventions as the core's: store/sql/schema.ts). */
export interface FederationTables extends CoreTables {
  federation_connections: {
    rowid: Generated<number>;
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
  };
  federation_invites: {
    token_hash: string;
    grants: string;
    expires_at: number;
    used_at: number | null;
    used_by: string | null;
    created_at: number;
  };
  federation_messages: {
    seq: Generated<number>;
    message_id: string;
    direction: string;
    kind: string;
    peer: string;
    op: string | null;
    correlation_id: string | null;
    status: string;
    http_status: number | null;
    error_code: string | null;
    error_message: string | null;
    attempts: number;
    verified: number;
    created_at: number;
    updated_at: number;
  };
  federation_seen: {
    rowid: Generated<number>;
    peer: string;
    message_id: string;
    http_status: number;
    response: Buffer;
    signature: string;
    created_at: number;
  };
  federation_outbox: {
    rowid: Generated<number>;
    peer: string;
    seq: number;
    agent_id: string;
    status: Generated<string>;
    attempts: Generated<number>;
    next_attempt_at: Generated<number>;
    last_error: string | null;
    created_at: number;
    delivered_at: number | null;
  };
  federation_mirror: {
    rowid: Generated<number>;
    agent_id: string;
    instance_id: string;
    state: string;
    repo: string;
    task_id: string;
    origin: string;
    data: string;
    last_seq: number;
    created_at: number;
    updated_at: number;
  };
  federation_requests: {
    instance_id: string;
    source: string;
    created_at: number;
  };
}
