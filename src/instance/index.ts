import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { AgentService, EventBus, EventFeed, localAgentApi } from '../agents/index.js';
import { loadConfig, type Config } from '../core/config.js';
import { ensureAdminToken, ensureHome, homePaths } from '../core/home.js';
import { createLogger, type Logger } from '../core/logger.js';
import { loadOrCreateIdentity, type Identity } from '../federation/identity/index.js';
import { WorktreeManager } from '../git/index.js';
import { buildApp } from '../http/app.js';
import { RepoService } from '../repos/index.js';
import { openSqliteStore, type Store } from '../store/index.js';

export interface StartOptions {
  /** Settings that win over env and config.json (tests, the demo). */
  config?: Partial<Config>;
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

/** A running Mosaic instance: the composition root of every module. */
export interface Instance {
  config: Config;
  identity: Identity;
  adminToken: string;
  store: Store;
  agents: AgentService;
  app: FastifyInstance;
  /** The URL the server listens on (with the real port when port 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

function listenUrl(app: FastifyInstance, config: Config, https: boolean): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${https ? 'https' : 'http'}://${host}:${port}`;
}

export async function startInstance(options: StartOptions = {}): Promise<Instance> {
  const env = options.env ?? process.env;
  let config = loadConfig(env, options.config ?? {});
  ensureHome(config.home);
  const paths = homePaths(config.home);
  const adminToken = ensureAdminToken(config.home);
  const identity = loadOrCreateIdentity(paths.identityDir);
  const logger = options.logger ?? createLogger(config.logLevel);
  const https = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;

  const store = openSqliteStore(paths.db);
  const bus = new EventBus();
  const git = new WorktreeManager();
  const agents = new AgentService({ config, store, git, bus, logger });
  const repos = new RepoService(store, (repo) => agents.activeIn(repo));
  const feed = new EventFeed(store, bus);

  let app: FastifyInstance | undefined;
  try {
    await agents.start();
    app = await buildApp({
      logger, instanceId: identity.instanceId, adminToken, startedAt: Date.now(), https,
      agentApi: localAgentApi(agents), agentService: agents, repos, feed,
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app?.close();
    await agents.stop();
    await store.close();
    throw err;
  }
  const url = listenUrl(app, config, https !== undefined);
  // Asked for port 0 without an explicit URL: peers must be told the real port.
  if (config.port === 0 && !env.MOSAIC_URL && !options.config?.url) config = { ...config, url };

  const server = app;
  return {
    config,
    identity,
    adminToken,
    store,
    agents,
    app: server,
    url,
    async close() {
      await server.close();
      await agents.stop();
      await store.close();
    },
  };
}
