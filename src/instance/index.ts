import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { AgentService, EventBus, EventFeed, localAgentApi } from '../agents/index.js';
import { defaultUrl, loadConfig, type Config } from '../core/config.js';
import { ensureAdminToken, ensureHome, homePaths } from '../core/home.js';
import { createLogger, type Logger } from '../core/logger.js';
import { agentUserFor, probeFor, removeTreeInBackground, settleBackgroundRemovals } from '../agents/sandbox/index.js';
import { loadOrCreateIdentity, type Identity } from '../federation/identity/index.js';
import { connectionSchema, createFederation, type Federation } from '../federation/index.js';
import { WorktreeManager, type WorktreeManagerOptions } from '../git/index.js';
import { HostAllowList } from '../http/allowed-hosts.js';
import { buildApp } from '../http/app.js';
import { mcpHttpPlugin } from '../mcp/index.js';
import { createA2a } from '../a2a/index.js';
import { joinCluster, type ClusterMember } from '../cluster/index.js';
import { isClusterConfig } from '../cluster/member.js';
import { createFleet, type Fleet } from '../fleet/index.js';
import { RepoService } from '../repos/index.js';
import { acquireOwnerLock, openStore, SqliteBackend, type OwnerLock, type SqlStore } from '../store/index.js';
import { acquireHomeLock } from './home-lock.js';
import { instanceMigrations } from './migrations.js';
import { startRetention } from './retention.js';

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
  store: SqlStore;
  agents: AgentService;
  federation: Federation;
  /** Budgets, rate-limit pauses, metrics (issue 18). */
  fleet: Fleet;
  app: FastifyInstance;
  /** The URL the server listens on (with the real port when port 0 was asked for). */
  url: string;
  /** Whether agents here run sandboxed, as found at start-up. */
  sandbox: SandboxState;
  close(): Promise<void>;
}

/** `bubblewrap` (agents sandboxed), `off` (MOSAIC_SANDBOX=off) or `unavailable` (with why). */
export interface SandboxState {
  state: 'bubblewrap' | 'off' | 'unavailable';
  mode: Config['sandbox'];
  detail: string;
}

function sandboxState(config: Config, probe: ReturnType<typeof probeFor> | null): SandboxState {
  if (probe === null) return { state: 'off', mode: config.sandbox, detail: 'MOSAIC_SANDBOX=off: local agents run unsandboxed' };
  if (probe.available) return { state: 'bubblewrap', mode: config.sandbox, detail: probe.path };
  return { state: 'unavailable', mode: config.sandbox, detail: probe.reason };
}

/**
 * Layered worktrees (git/layered.ts) as root, their base trees owned by the
 * agent user; off when MOSAIC_LAYERED_WORKTREES=false, when not root, or
 * when the agent user does not resolve (spawns then fail with the sandbox's
 * own error, as before).
 */
function layeredOption(config: Config, logger: Logger): Pick<WorktreeManagerOptions, 'layered' | 'onLayeredUnavailable'> {
  if (!config.layeredWorktrees) return {};
  let user;
  try {
    user = agentUserFor(config);
  } catch {
    return {};
  }
  if (user === null) return {};
  return {
    layered: { uid: user.uid, gid: user.gid },
    onLayeredUnavailable: (root, reason) => logger.warn({ root, reason }, 'layered worktrees: the overlay could not be mounted here, agents get full checkouts'),
  };
}

function listenUrl(app: FastifyInstance, config: Config): string {
  const address = app.server.address();
  return defaultUrl({ ...config, port: typeof address === 'object' && address ? address.port : config.port });
}

function pickFields(value: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([key]) => keys.includes(key)));
}

export async function startInstance(options: StartOptions = {}): Promise<Instance> {
  const env = options.env ?? process.env;
  const config = loadConfig(env, options.config ?? {});
  ensureHome(config.home);
  // Before anything touches the home's agents or store: a second server on it refuses to start.
  const lock = acquireHomeLock(config.home);
  try {
    return await startLocked(config, options, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function startLocked(
  initial: Config, options: StartOptions, lock: ReturnType<typeof acquireHomeLock>,
): Promise<Instance> {
  let config = initial;
  const paths = homePaths(config.home);
  const adminToken = ensureAdminToken(config.home);
  // A node of a cluster uses the cluster's identity (from the database), not one of its own.
  const clustered = isClusterConfig(config);
  let identity = clustered ? undefined : loadOrCreateIdentity(paths.identityDir);
  const logger = options.logger ?? createLogger(config.logLevel, config.logFormat);
  const https = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;

  const migrations = instanceMigrations();
  const store = await openStore({
    databaseUrl: config.databaseUrl, sqliteFile: paths.db, poolSize: config.databasePool, migrations,
    onIdleError: (err) => logger.warn({ code: (err as { code?: unknown }).code, message: err.message }, 'database connection lost; it is replaced when next needed'),
  });
  logger.info({ store: store.describe() }, 'store opened');
  // Repositories shared by URL are read as this node's clones under its home.
  store.repos.cloneHome = config.home;
  // One standalone instance per database, as one server per home; the nodes of a cluster hold it shared.
  let owner: OwnerLock | undefined;
  let cluster: ClusterMember | undefined;
  try {
    if (config.databaseUrl !== undefined) owner = await acquireOwnerLock(config.databaseUrl, logger, { shared: clustered });
    if (clustered) {
      cluster = await joinCluster({ config, store, adminToken, logger });
      identity = cluster.identity;
    }
  } catch (err) {
    await cluster?.stop();
    await owner?.release();
    await store.close();
    throw err;
  }
  const instanceIdentity = identity as Identity;
  // A SQLite store from before incremental vacuum is rewritten once, so pruning can give space back.
  try {
    if (store.backend instanceof SqliteBackend && store.backend.ensureIncrementalVacuum()) logger.info({ db: paths.db }, 'store converted to incremental vacuum');
  } catch (err) {
    await store.close();
    throw err;
  }
  const bus = new EventBus();
  // Every worktree it makes records this instance, so another instance on the same repository leaves it alone.
  // A removed worktree's files (an agent wrote them) are deleted in the background, never through a link it planted.
  const git = new WorktreeManager({
    owner: instanceIdentity.instanceId,
    discard: (path) => removeTreeInBackground(path, (err) => logger.warn({ path, err: (err as Error).message }, 'deleting a removed worktree failed; the next removal retries')),
    ...layeredOption(config, logger),
  });
  const sandbox = config.sandbox === 'off' ? null : probeFor(config);
  if (config.sandbox === 'off') logger.warn('sandbox: MOSAIC_SANDBOX=off, local agents run unsandboxed (peers\' agents still need one)');
  else if (sandbox?.available) logger.info({ mechanism: sandbox.mechanism, path: sandbox.path, mode: config.sandbox }, 'sandbox: agents run in bubblewrap');
  else logger.warn({ reason: sandbox?.reason, mode: config.sandbox }, config.sandbox === 'required'
    ? 'sandbox: none available and MOSAIC_SANDBOX=required, every agent will fail' : 'sandbox: none available, local agents run unsandboxed and peers\' spawns are refused');
  const agents = new AgentService({ config, store: cluster?.agentStore ?? store, git, bus, logger });
  const repos = new RepoService(store, (repo) => agents.activeIn(repo), agents.pool, { home: config.home, cloner: agents.remotes });
  const feed = new EventFeed(store, bus);
  const federation = createFederation({ config, identity: instanceIdentity, store, agents, bus, logger });

  const peerName = async (instanceId: string): Promise<string | undefined> => (await federation.store.connections.byInstance(instanceId))?.name;
  const fleet = createFleet({
    config, store, agents, bus, logger, peerName,
    // The spoke's view: each active peer's name, instance and the daily cap its grant sets.
    peers: async () => (await federation.connections.list()).filter((c) => c.state === 'active').map((c) => ({
      name: c.name, instanceId: c.instanceId, ...(c.grants.maxCostUsdPerDay !== undefined ? { maxCostUsdPerDay: c.grants.maxCostUsdPerDay } : {}),
    })),
    outboxDepths: async () => Promise.all((await federation.store.outbox.depths()).map(async (d) => ({ peer: (await peerName(d.peer)) ?? d.peer, depth: d.depth }))),
  });

  const agentApi = federation.agentApi(localAgentApi(agents));
  const hosts = new HostAllowList(config);
  const mcpServices = {
    agents: agentApi, repos, conflicts: agents.conflicts, bus,
    // As GET /federation/connections answers: the fields its schema lists.
    peers: async () => (await federation.connections.list()).map((c) => pickFields(federation.connections.withContact(c), Object.keys(connectionSchema.properties))),
  };

  const sse = { maxBufferBytes: config.sseMaxBufferBytes, stallMs: config.sseStallMs };
  const a2a = createA2a({ name: config.name, url: () => config.url, adminToken, ...(cluster ? { otherAdminTokens: cluster.otherAdminTokens } : {}), store, agents, bus, hosts, sse, logger });

  let app: FastifyInstance | undefined;
  try {
    await fleet.start();
    await cluster?.join(agents, config.url);
    await agents.start();
    app = await buildApp({
      logger, instanceId: instanceIdentity.instanceId, adminToken, startedAt: Date.now(), https,
      store: { backend: store.dialect, description: store.describe() },
      ...(cluster ? { otherAdminTokens: cluster.otherAdminTokens } : {}),
      agentApi, agentService: agents, repos, feed, hosts,
      rootPlugins: [(scope) => mcpHttpPlugin(scope, { services: mcpServices, adminToken, ...(cluster ? { otherAdminTokens: cluster.otherAdminTokens } : {}), hosts, logger }), (scope) => a2a.plugin(scope)],
      dashboard: { loginCodeTtlMs: config.loginCodeTtlMs },
      metrics: { render: () => fleet.metrics.render(), public: config.metricsPublic },
      limits: () => fleet.governor.activeLimits(),
      sse,
      connections: {
        requestTimeoutMs: config.requestTimeoutMs,
        headersTimeoutMs: config.headersTimeoutMs,
        keepAliveTimeoutMs: config.keepAliveTimeoutMs,
        maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      },
      plugins: [
        (scope, adminGuard) => federation.plugin(scope, adminGuard), (scope, adminGuard) => a2a.adminPlugin(scope, adminGuard),
        ...(cluster ? [(scope: FastifyInstance, adminGuard: Parameters<ClusterMember['plugin']>[1]) => cluster.plugin(scope, adminGuard)] : []),
        (scope, adminGuard) => fleet.plugin(scope, adminGuard),
      ],
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app?.close();
    await agents.stop();
    await cluster?.stop();
    await fleet.stop();
    await store.close();
    await owner?.release();
    throw err;
  }
  const url = listenUrl(app, config);
  // Port 0 without a configured URL: peers must be told the port the OS picked.
  if (config.port === 0 && config.url === defaultUrl(config)) config = { ...config, url };
  federation.start(config.url);
  cluster?.start(url, feed);
  const stopRetention = startRetention(store, federation, config, logger);
  lock.setUrl(url);

  const server = app;
  return {
    config,
    identity: instanceIdentity,
    adminToken,
    store,
    agents,
    federation,
    fleet,
    app: server,
    url,
    sandbox: sandboxState(config, sandbox),
    async close() {
      stopRetention();
      await server.close();
      await federation.stop();
      await cluster?.stop();
      await agents.stop();
      await fleet.stop();
      await settleBackgroundRemovals();
      await store.close();
      await owner?.release();
      lock.release();
    },
  };
}
