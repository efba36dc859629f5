import type { Kysely } from 'kysely';
import type { SqlContext, SqlStore } from '../store/index.js';
import { NodeRegistry } from './nodes.js';
import type { ClusterTables } from './schema.js';

export { CLUSTER_MIGRATIONS } from './migrations.js';
export type { ClusterTables } from './schema.js';
export { NodeRegistry, type NodeCapabilities, type NodeLease, type NodeState, type NodeView } from './nodes.js';
export { NodeAuth, NODE_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIME_HEADER } from './node-auth.js';
export { deriveKey, MIN_SECRET_LENGTH } from './secret.js';
export { joinCluster, type ClusterMember } from './member.js';

/** The cluster's node registry on a store's database (PostgreSQL: a cluster shares one). */
export function nodeRegistry(store: SqlStore): NodeRegistry {
  return new NodeRegistry(clusterContext(store));
}

/** The store's executor seen with the cluster's tables (they extend the core's: same connection, same transactions). */
export function clusterContext(store: SqlStore): SqlContext<ClusterTables> {
  return { ...store.sql, db: store.sql.db as unknown as Kysely<ClusterTables> };
}
