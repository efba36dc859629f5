import type { CoreTables } from '../store/index.js';

/** The cluster's tables as the query layer sees them (same conventions as the core's: store/sql/schema.ts). */
export interface ClusterTables extends CoreTables {
  cluster_nodes: {
    name: string;
    /** The internal URL other nodes reach it at (MOSAIC_NODE_URL). */
    url: string;
    /** Raised each time the node (re)joins: writes carrying an older epoch are refused. */
    epoch: number;
    capacity: number;
    /** Agents spawning or running there at its last heartbeat. */
    running: number;
    /** 0/1: takes no new agents (mosaic nodes drain). */
    draining: number;
    /** Database time (ms) until which its lease holds; past it the node may be declared lost. */
    lease_until: number;
    heartbeat_at: number;
    /** Set when another node declared it lost (cleared when it rejoins with a new epoch). */
    lost_at: number | null;
    version: string;
    /** JSON: `{runtimes: string[]}` — what it can run. */
    capabilities: string;
    joined_at: number;
  };
  cluster_identity: {
    id: number;
    /** The instance's Ed25519 private key (PKCS#8 DER), sealed with AES-256-GCM under a key derived from the cluster secret. */
    sealed_key: string;
    created_at: number;
  };
  cluster_admin_tokens: {
    /** SHA-256 of the token (hex): a leaked database leaks no usable token. */
    token_hash: string;
    node: string;
    created_at: number;
  };
}
