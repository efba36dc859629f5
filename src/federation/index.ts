import type { FastifyInstance } from 'fastify';
import type { AgentApi, AgentService, EventBus } from '../agents/index.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { requireAdmin } from '../http/auth.js';
import type { SqlStore } from '../store/index.js';
import { ConnectionService } from './connections/service.js';
import type { FederationContext } from './context.js';
import { Dispatcher } from './handlers/index.js';
import { adminFederationRoutes } from './http/admin-routes.js';
import type { Identity } from './identity/index.js';
import { publicFederationRoutes } from './inbound/plugin.js';
import { InboundProcessor } from './inbound/processor.js';
import { Messenger, PeerContacts, type InstanceDoc } from './outbound/index.js';
import { OutboxDelivery } from './outbox/delivery.js';
import { EventPuller } from './outbox/pull.js';
import { PROTOCOL_VERSION, REPLAY_WINDOW_MS, WIRE_COMMANDS } from './protocol/index.js';
import { FederatedAgentApi } from './remote/api.js';
import { RemoteMirror } from './remote/mirror.js';
import { disconnectPeer } from './remote/peer-agents.js';
import { PeerProber } from './remote/prober.js';
import { openFederationStore, type FederationStore } from './store/index.js';

export { FEDERATION_MIGRATIONS } from './store/index.js';
export { connectionSchema, grantsBody, grantsView } from './http/schemas.js';
export { authorizeGrantedSpawn, checkGrant, defaultGrants, validateGrants, type Grants } from './protocol/grants.js';
export type { ConnectionRecord, MessageRecord } from './store/index.js';
export type { PeerContact } from './outbound/index.js';

export interface FederationDeps {
  config: Config;
  identity: Identity;
  /** The core store; opened with FEDERATION_MIGRATIONS among its migrations. */
  store: SqlStore;
  agents: AgentService;
  bus: EventBus;
  logger: Logger;
}

/** What the instance wires in: routes, the federated AgentApi, and the background work. */
export interface Federation {
  store: FederationStore;
  connections: ConnectionService;
  /** The AgentApi the HTTP layer uses: `local` for local agents, peers for the rest. */
  agentApi(local: AgentApi): AgentApi;
  /** Registered under /api/v1 by buildApp. */
  plugin(app: FastifyInstance, adminGuard: ReturnType<typeof requireAdmin>): Promise<void>;
  /** Starts delivery; `url` is where peers reach this instance (known once the server listens). */
  start(url: string): void;
  /**
   * Drops what peers made grow past its retention (config `retentionDays`,
   * `retentionMaxRows`): tracked messages, settled outbox rows, replay-cache
   * answers past the replay window, expired invites. Never a pending row.
   * The instance runs it at start and periodically.
   */
  prune(now?: number): Promise<FederationPruned>;
  stop(): Promise<void>;
}

export interface FederationPruned {
  messages: number;
  outbox: number;
  seen: number;
}

const DAY_MS = 24 * 3600_000;
/** Messages refused before their sender was verified, kept for the admin to see forgeries. */
const MAX_UNVERIFIED_MESSAGES = 10_000;

export const CAPABILITIES = [...WIRE_COMMANDS, 'query:agents', 'query:instance', 'query:events', 'event:agent.state', 'event:seq', 'event:grant.changed'];

export function createFederation(deps: FederationDeps): Federation {
  const store = openFederationStore(deps.store);
  const self = { instanceId: deps.identity.instanceId, name: deps.config.name.slice(0, 100), url: deps.config.url, publicKey: deps.identity.publicKeyBase64 };
  let delivery: OutboxDelivery | undefined;
  let puller: EventPuller | undefined;
  let prober: PeerProber | undefined;
  const closing = new AbortController();
  const contacts = new PeerContacts();
  const messenger = new Messenger({
    identity: deps.identity, store, logger: deps.logger, timeoutMs: deps.config.fedTimeoutMs, retries: deps.config.fedRetries, contacts,
  });
  const ctx: FederationContext = {
    config: deps.config, identity: deps.identity, self, store, core: deps.store, agents: deps.agents, bus: deps.bus, logger: deps.logger, messenger, contacts,
    wakeOutbox: (peer) => {
      delivery?.wake(peer);
      puller?.scan();
    },
    closing: closing.signal,
  };
  const mirror = new RemoteMirror(ctx);
  const connections = new ConnectionService(ctx);
  const processor = new InboundProcessor(ctx, new Dispatcher(ctx, mirror));
  const instanceDoc = (): InstanceDoc => ({ ...self, protocolVersion: PROTOCOL_VERSION, capabilities: CAPABILITIES });

  const prune = async (now = Date.now()): Promise<FederationPruned> => {
    const { retentionDays, retentionMaxRows } = deps.config;
    const before = now - retentionDays * DAY_MS;
    await store.invites.prune(now - DAY_MS);
    const seen = await store.seen.prune(now - REPLAY_WINDOW_MS) + await store.seen.cap(retentionMaxRows);
    const messages = await store.messages.prune(before) + await store.messages.trimUnverified(MAX_UNVERIFIED_MESSAGES)
      + await store.messages.cap(retentionMaxRows);
    const outbox = await store.outbox.prune(before) + await store.outbox.cap(retentionMaxRows);
    return { messages, outbox, seen };
  };

  return {
    store,
    connections,
    agentApi: (local) => new FederatedAgentApi(ctx, local, mirror),
    async plugin(app, adminGuard) {
      app.addHook('preClose', async () => closing.abort());
      await app.register(publicFederationRoutes, { processor, instanceDoc, ratePerIp: deps.config.fedRatePerIp });
      await app.register(async (admin) => {
        admin.addHook('onRequest', adminGuard);
        await adminFederationRoutes(admin, {
          connections, store,
          disconnect: async (ref, opts) => disconnectPeer(ctx, mirror, await connections.resolve(ref), opts.killAgents === true, () => connections.disconnect(ref)),
        });
      });
    },
    prune,
    start(url) {
      self.url = url;
      delivery = new OutboxDelivery(ctx);
      delivery.start();
      puller = new EventPuller(ctx, mirror);
      puller.start();
      prober = new PeerProber(ctx);
      prober.start();
    },
    async stop() {
      closing.abort();
      await Promise.all([delivery?.stop(), puller?.stop(), prober?.stop()]);
      delivery = undefined;
      puller = undefined;
      prober = undefined;
    },
  };
}
