import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import type { AgentService } from '../agents/index.js';
import type { Config } from '../core/config.js';
import { invalid } from '../core/errors.js';
import { isValidName, NAME_RULE } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import type { Identity } from '../federation/identity/index.js';
import type { SqlContext, SqlStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { ClusterAdminTokens } from './admin-tokens.js';
import { reposHere, runtimesHere } from './capabilities.js';
import { EventFanout } from './fanout.js';
import { fencedStore } from './fence.js';
import { NodeAuth } from './node-auth.js';
import { clusterIdentity } from './identity.js';
import { ClusterNode } from './node.js';
import { SpawnQueue } from './queue.js';
import { clusterRoutes } from './routes.js';
import type { ClusterTables } from './schema.js';
import { MIN_SECRET_LENGTH } from './secret.js';

/** What the instance wires in when this server is a node of a cluster. */
export interface ClusterMember {
  /** The cluster's one identity (from the database). */
  identity: Identity;
  node: ClusterNode;
  /** The store the agents write through: every agent write fenced by this node's lease. */
  agentStore: Store;
  /** Every node's admin token works here. */
  otherAdminTokens(presented: string): Promise<boolean>;
  /** `/api/v1/cluster` routes. */
  plugin(scope: FastifyInstance, adminGuard: onRequestAsyncHookHandler): Promise<void>;
  /** Joins (before the agents start) with this node's service. */
  join(agents: AgentService, url: string): Promise<void>;
  /** Sweeps and looks for work (after the server listens, at its real URL); other nodes' events wake `feed`'s streams. */
  start(url: string, feed: { wake(): void }): void;
  stop(): Promise<void>;
}

/** Whether this configuration makes a cluster node; refuses half a cluster configuration. */
export function isClusterConfig(config: Config): boolean {
  if (config.clusterSecret === undefined) return false;
  if (config.databaseUrl === undefined) throw invalid('invalid_config', 'MOSAIC_CLUSTER_SECRET needs MOSAIC_DATABASE_URL: a cluster shares one PostgreSQL database');
  if (config.clusterSecret.length < MIN_SECRET_LENGTH) throw invalid('invalid_config', `MOSAIC_CLUSTER_SECRET must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 32)`);
  if (!isValidName(config.nodeName)) throw invalid('invalid_config', `MOSAIC_NODE_NAME: ${NAME_RULE}`);
  return true;
}

/**
 * Makes this server a node: the shared identity (the first node creates it),
 * this node's admin token recorded (hashed) for every node, the job queue
 * installed. The instance then builds its agents on `agentStore`, calls
 * `join` before starting them and `start` once it listens.
 */
export async function joinCluster(deps: { config: Config; store: SqlStore; adminToken: string; logger: Logger }): Promise<ClusterMember> {
  const { config, store, logger } = deps;
  const secret = config.clusterSecret as string;
  const ctx: SqlContext<ClusterTables> = { ...store.sql, db: store.sql.db as unknown as Kysely<ClusterTables> };
  const identity = await clusterIdentity(ctx, secret);
  const tokens = new ClusterAdminTokens(ctx);
  await tokens.register(deps.adminToken, config.nodeName);
  const queue = new SpawnQueue(config.databaseUrl as string, logger);
  await queue.start();
  let fanout: EventFanout | undefined;
  let service: AgentService | undefined;
  const auth = new NodeAuth(secret, config.nodeName);
  // Looked at on this machine at each heartbeat (and before a take, at most once a second): a binary installed or a path restored counts.
  const capabilities = async () => ({ runtimes: runtimesHere(config), ...reposHere(await store.repos.list()) });
  const node = new ClusterNode({ ctx, auth, name: config.nodeName, capacity: config.maxAgents, leaseMs: config.nodeLeaseS * 1000, queue, logger, capabilities });
  return {
    identity,
    node,
    agentStore: fencedStore(store, node.fence),
    otherAdminTokens: (presented) => tokens.matches(presented),
    plugin: (scope, adminGuard) => clusterRoutes(scope, {
      registry: node.registry, adminGuard, auth,
      agents: () => {
        if (service === undefined) throw new Error('the cluster routes answer once the node joined');
        return service;
      },
    }),
    async join(agents, url) {
      service = agents;
      agents.attachPlacement(node);
      await node.join(agents, config.nodeUrl ?? url);
    },
    start(url, feed) {
      node.start(config.nodeUrl ?? url);
      fanout = new EventFanout(config.databaseUrl as string, () => feed.wake(), logger);
      fanout.start();
    },
    async stop() {
      await fanout?.stop();
      await node.stop();
      await queue.stop();
    },
  };
}
