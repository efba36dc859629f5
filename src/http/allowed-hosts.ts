import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, MosaicError } from '../core/errors.js';

/** What decides the names this instance answers to (core/config.ts). */
export interface HostNamesConfig {
  /** The listen address (`MOSAIC_HOST`). */
  host: string;
  /** The URL peers and clients are told (`MOSAIC_URL`). */
  url: string;
  /** Extra names (`MOSAIC_ALLOWED_HOSTS`), e.g. a reverse proxy's or a LAN name. */
  allowedHosts: readonly string[];
}

/** Names every instance answers to: the loopback ones a local browser or CLI uses. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** A host name as compared here: lower case, no IPv6 brackets, no trailing dot. */
function normalize(name: string): string {
  const lower = name.trim().toLowerCase().replace(/\.$/, '');
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

/** The host name of a `Host` header value (`name`, `name:port`, `[v6]:port`), or undefined when it is not one. */
function hostNameOf(value: string): string | undefined {
  if (value === '' || /[\s/?#@\\]/.test(value)) return undefined;
  try {
    return normalize(new URL(`http://${value}`).hostname);
  } catch {
    return undefined;
  }
}

/**
 * The Host and Origin allow-list (DESIGN §2, `MOSAIC_ALLOWED_HOSTS`). A web
 * page on another site can make a browser reach this server under its own
 * name (DNS rebinding: `evil.example` resolving to 127.0.0.1); such requests
 * carry that foreign name in `Host` and are refused before any route runs.
 * The dashboard, `/mcp` and `/a2a` use it; signed federation traffic and the
 * bearer-token API do not need it (a rebound page holds no token).
 */
export class HostAllowList {
  private readonly names: ReadonlySet<string>;

  constructor(config: HostNamesConfig) {
    const names = new Set(LOOPBACK_NAMES);
    names.add(normalize(config.host));
    const fromUrl = hostNameOf(safeUrlHost(config.url));
    if (fromUrl) names.add(fromUrl);
    for (const extra of config.allowedHosts) {
      const name = hostNameOf(extra);
      if (name) names.add(name);
    }
    this.names = names;
  }

  /** The names answered to, for messages and `doctor`. */
  list(): string[] {
    return [...this.names];
  }

  /** Whether a `Host` header names this instance (the port is not compared: rebinding keeps it). */
  allowsHost(header: string | undefined): boolean {
    const name = header === undefined ? undefined : hostNameOf(header);
    return name !== undefined && this.names.has(name);
  }

  /** Whether an `Origin` header is a page served under one of this instance's names (`null` never is). */
  allowsOrigin(origin: string): boolean {
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && this.names.has(normalize(url.hostname));
    } catch {
      return false;
    }
  }

  /** Throws 421 `misdirected_host` for a foreign Host; with `origin`, 403 `cross_origin_refused` for a foreign Origin. */
  check(request: FastifyRequest, opts: { origin?: boolean } = {}): void {
    const host = request.headers.host;
    if (!this.allowsHost(host)) {
      throw new MosaicError(421, 'misdirected_host',
        `this instance does not answer to the host name '${String(host ?? '')}' (add it to MOSAIC_ALLOWED_HOSTS if it is yours)`,
        { allowed: this.list() });
    }
    const origin = request.headers.origin;
    if (opts.origin && origin !== undefined && !this.allowsOrigin(origin)) {
      throw forbidden('cross_origin_refused', `requests from the web page ${origin} are refused`);
    }
  }

  /** An onRequest hook doing `check`. */
  hook(opts: { origin?: boolean } = {}) {
    return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => this.check(request, opts);
  }
}

function safeUrlHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}
