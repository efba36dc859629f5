import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../core/config.js';
import { ensureAdminToken, ensureHome, homePaths } from '../core/home.js';
import { createLogger, type Logger } from '../core/logger.js';
import { loadOrCreateIdentity, type Identity } from '../federation/identity/index.js';
import { buildApp } from '../http/app.js';

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
  app: FastifyInstance;
  /** The URL the server listens on (with the real port when port 0 was asked for). */
  url: string;
  close(): Promise<void>;
}

export async function startInstance(options: StartOptions = {}): Promise<Instance> {
  const config = loadConfig(options.env ?? process.env, options.config ?? {});
  ensureHome(config.home);
  const paths = homePaths(config.home);
  const adminToken = ensureAdminToken(config.home);
  const identity = loadOrCreateIdentity(paths.identityDir);
  const logger = options.logger ?? createLogger(config.logLevel);
  const https = config.tlsCert && config.tlsKey
    ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }
    : undefined;

  const app = await buildApp({ logger, instanceId: identity.instanceId, adminToken, startedAt: Date.now(), https });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const scheme = https ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${scheme}://${host}:${port}`;
  // When port 0 was asked for, peers must be told the real port.
  const finalConfig: Config = config.port === 0 && !options.env?.MOSAIC_URL && !options.config?.url ? { ...config, port, url } : config;

  return {
    config: finalConfig,
    identity,
    adminToken,
    app,
    url,
    async close() {
      await app.close();
    },
  };
}
