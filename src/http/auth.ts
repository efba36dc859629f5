import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../core/errors.js';
import type { HostAllowList } from './allowed-hosts.js';
import { readCookie } from './cookies.js';

/** Constant-time comparison of two secrets of any length (hashing equalizes lengths). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** The dashboard's session cookie, and the header its mutating requests must carry. */
export const SESSION_COOKIE = 'mosaic_session';
export const REQUEST_HEADER = 'x-mosaic-request';

/** What the guard needs to know about dashboard sessions (src/http/dashboard provides it). */
export interface SessionCheck {
  /** When the session ends, or undefined when it is unknown or over. */
  sessionExpiry(id: string): number | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The origin the browser used to reach this server, as it would write it in an Origin header. */
export function ownOrigin(request: FastifyRequest): string | undefined {
  const host = request.headers.host;
  return host ? `${request.protocol}://${host}`.toLowerCase() : undefined;
}

/**
 * Cross-site request defence for cookie-authenticated calls. SameSite=Strict
 * already keeps other sites' requests cookie-less; on top of that:
 * - any request whose browser says it came from elsewhere (Origin or
 *   Sec-Fetch-Site) is refused;
 * - a mutating request must carry Origin equal to this server's origin and
 *   `X-Mosaic-Request: 1`, a header no other site can add without a CORS
 *   preflight this server never approves.
 */
export function checkSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  const own = ownOrigin(request);
  if (origin !== undefined && origin.toLowerCase() !== own) {
    throw forbidden('cross_origin_refused', `requests from ${origin} may not use the dashboard session`);
  }
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw forbidden('cross_origin_refused', `a ${String(site)} request may not use the dashboard session`);
  }
  if (SAFE_METHODS.has(request.method)) return;
  if (origin === undefined) throw forbidden('origin_required', 'a mutating request with the dashboard session must send Origin');
  if (request.headers[REQUEST_HEADER] !== '1') {
    throw forbidden('request_header_required', `a mutating request with the dashboard session must send ${REQUEST_HEADER}: 1`);
  }
}

/** Admin tokens besides this server's own (a cluster: every node's token works on every node). */
export type OtherAdminTokens = (presented: string) => Promise<boolean>;

/**
 * The admin guard: `Authorization: Bearer <admin token>`, or (when `sessions`
 * is given) the dashboard's session cookie with the same-origin checks above,
 * under one of the host names the dashboard answers to (`hosts`).
 * A request with an Authorization header is judged by that header alone.
 */
export function requireAdmin(token: string, sessions?: SessionCheck, hosts?: HostAllowList, otherTokens?: OtherAdminTokens) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (header) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match && secretsEqual(match[1]!, token)) return;
      if (!match || otherTokens === undefined || !(await otherTokens(match[1]!))) throw unauthorized('auth_invalid', 'invalid admin token');
      return;
    }
    const session = sessions ? readCookie(request.headers.cookie, SESSION_COOKIE) : undefined;
    if (!sessions || session === undefined) throw unauthorized('auth_required', 'missing Authorization: Bearer <admin token>');
    hosts?.check(request);
    if (sessions.sessionExpiry(session) === undefined) throw unauthorized('session_invalid', 'the dashboard session is over or unknown: sign in again');
    checkSameOrigin(request);
  };
}
