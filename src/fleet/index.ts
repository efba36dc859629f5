import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { AgentService, EventBus } from '../agents/index.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { SqlStore } from '../store/index.js';
import type { PeerSpendView } from './budgets.js';
import { FleetGovernor } from './governor.js';
import { FleetMetrics } from './metrics.js';
import { fleetRoutes } from './routes.js';

export { FLEET_MIGRATIONS } from './migrations.js';
export { FleetGovernor, costOf } from './governor.js';
export { FleetMetrics } from './metrics.js';
export { parseScope, MAX_FLEET_BUDGET_USD, type BudgetStatus, type PeerSpendView } from './budgets.js';
export { windowOf, BUDGET_PERIODS, type BudgetPeriod } from './windows.js';
export type { LimitRecord } from './store.js';

export interface FleetDeps {
  config: Pick<Config, 'rateLimitRetry' | 'metricsPublic'>;
  /** The core store, opened with FLEET_MIGRATIONS among its migrations. */
  store: SqlStore;
  agents: AgentService;
  bus: EventBus;
  logger: Logger;
  peers?: () => Promise<PeerSpendView[]>;
  outboxDepths?: () => Promise<Array<{ peer: string; depth: number }>>;
  peerName?: (instanceId: string) => Promise<string | undefined>;
}

export interface Fleet {
  governor: FleetGovernor;
  metrics: FleetMetrics;
  /** /budgets and /limits, registered under /api/v1 behind the admin guard. */
  plugin(app: FastifyInstance, adminGuard: onRequestHookHandler): Promise<void>;
  /** Loads the pauses in force and becomes the agents' queue gate; before the agents start. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Fleet governance (issue 18): budgets, rate-limit pauses, metrics. */
export function createFleet(deps: FleetDeps): Fleet {
  const governor = new FleetGovernor({
    store: deps.store, agents: deps.agents, bus: deps.bus, logger: deps.logger, rateLimitRetry: deps.config.rateLimitRetry,
    ...(deps.peers ? { peers: deps.peers } : {}),
  });
  const metrics = new FleetMetrics({
    store: deps.store, bus: deps.bus, governor, onTimings: (listener) => deps.agents.onTimings(listener),
    ...(deps.outboxDepths ? { outboxDepths: deps.outboxDepths } : {}),
    ...(deps.peerName ? { peerName: deps.peerName } : {}),
  });
  return {
    governor,
    metrics,
    async plugin(app, adminGuard) {
      app.addHook('onRequest', adminGuard);
      await fleetRoutes(app, { governor });
    },
    async start() {
      deps.agents.setGate(governor);
      await governor.start();
    },
    async stop() {
      metrics.close();
      await governor.stop();
    },
  };
}
