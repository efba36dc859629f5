import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HostAllowList } from '../allowed-hosts.js';
import type { OtherAdminTokens } from '../auth.js';
import { dashboardApiRoutes, loginRoute } from './routes.js';
import type { DashboardSessions } from './sessions.js';
import { dashboardStatic } from './static.js';
import { SignInThrottle } from './throttle.js';

export { DashboardSessions, LOGIN_CODE_TTL_MS, SESSION_TTL_MS, type SessionOptions } from './sessions.js';
export { CONTENT_SECURITY_POLICY, WEB_ROOT } from './static.js';
export { SIGN_IN_MAX_FAILURES, SIGN_IN_WINDOW_MS, SignInThrottle, type ThrottleOptions } from './throttle.js';

export interface DashboardOptions {
  adminToken: string;
  /** A cluster: every node's admin token signs in here too. */
  otherAdminTokens?: OtherAdminTokens;
  sessions: DashboardSessions;
  adminGuard: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Host names the dashboard answers to: any other is a DNS-rebinding page (421). */
  hosts: HostAllowList;
  /** The built dashboard (default web/dist). */
  webRoot?: string;
  /** Failed sign-ins allowed per address (default SignInThrottle's). */
  throttle?: SignInThrottle;
}

/**
 * The web dashboard as one plugin: the page and its assets at `/`, the login
 * URL `/login?code=`, and the session API under /api/v1/dashboard. The page
 * itself talks to the public API only; the admin guard accepts its session cookie.
 */
export async function dashboardPlugin(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  app.addHook('onRequest', opts.hosts.hook());
  await app.register(dashboardStatic, { ...(opts.webRoot ? { root: opts.webRoot } : {}) });
  // One budget per address for both ways of signing in, so guesses cannot alternate between them.
  const throttle = opts.throttle ?? new SignInThrottle();
  await app.register(loginRoute, { sessions: opts.sessions, throttle });
  await app.register(dashboardApiRoutes, { prefix: '/api/v1', ...opts, throttle });
}
