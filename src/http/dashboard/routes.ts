import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../../core/errors.js';
import { checkSameOrigin, REQUEST_HEADER, secretsEqual, SESSION_COOKIE, type OtherAdminTokens } from '../auth.js';
import { readCookie, sessionCookie } from '../cookies.js';
import { commonErrors, errorResponse } from '../schemas.js';
import type { DashboardSessions } from './sessions.js';
import type { SignInThrottle } from './throttle.js';

export interface DashboardRouteOptions {
  adminToken: string;
  /** A cluster: every node's admin token signs in here too. */
  otherAdminTokens?: OtherAdminTokens;
  sessions: DashboardSessions;
  adminGuard: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** Failed sign-ins per address (token and login code share it). */
  throttle: SignInThrottle;
}

const tags = ['dashboard'];
const sessionState = {
  type: 'object',
  required: ['signedIn'],
  properties: { signedIn: { type: 'boolean' }, expiresAt: { type: 'integer' } },
} as const;

function setSession(request: FastifyRequest, reply: FastifyReply, sessions: DashboardSessions): number {
  const { id, expiresAt } = sessions.openSession();
  const secure = request.protocol === 'https';
  void reply.header('set-cookie', sessionCookie(SESSION_COOKIE, id, { maxAgeS: (expiresAt - Date.now()) / 1000, secure }));
  return expiresAt;
}

/** The dashboard session API under /api/v1/dashboard: login codes, sign-in with the token, sign-out. */
export async function dashboardApiRoutes(app: FastifyInstance, opts: DashboardRouteOptions): Promise<void> {
  const { sessions, adminToken } = opts;

  app.post('/dashboard/login-codes', {
    onRequest: opts.adminGuard,
    schema: {
      tags,
      summary: 'A one-time login code for the dashboard (admin token only; `mosaic dashboard` prints its URL)',
      description: 'The code is single-use and expires after two minutes; visiting `path` exchanges it for a session cookie.',
      response: {
        201: {
          type: 'object',
          required: ['code', 'path', 'expiresAt'],
          properties: { code: { type: 'string' }, path: { type: 'string' }, expiresAt: { type: 'integer' } },
        },
        403: errorResponse,
        ...commonErrors,
      },
    },
  }, async (request, reply) => {
    // A session must not mint codes: that would let it outlive its own expiry.
    if (!request.headers.authorization) throw forbidden('token_required', 'login codes are issued to the admin token only');
    const { code, expiresAt } = sessions.issueCode();
    return reply.status(201).send({ code, path: `/login?code=${code}`, expiresAt });
  });

  app.get('/dashboard/session', {
    schema: { tags, summary: 'Whether this browser has a dashboard session', security: [], response: { 200: sessionState } },
  }, async (request) => {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    const expiresAt = id === undefined ? undefined : sessions.sessionExpiry(id);
    return expiresAt === undefined ? { signedIn: false } : { signedIn: true, expiresAt };
  });

  app.post<{ Body: { token: string } }>('/dashboard/session', {
    schema: {
      tags,
      summary: 'Sign in to the dashboard with the admin token (sets an HttpOnly session cookie)',
      description: `Same-origin only: the request must send Origin and \`${REQUEST_HEADER}: 1\`.`,
      security: [],
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['token'],
        properties: { token: { type: 'string', minLength: 1, maxLength: 1024 } },
      },
      response: { 200: sessionState, 403: errorResponse, 429: errorResponse, ...commonErrors },
    },
  }, async (request, reply) => {
    const attempt = opts.throttle.attempt(request.ip);
    // Without this, another site could sign a visitor in to a session of the attacker's choosing.
    checkSameOrigin(request);
    const presented = request.body.token.trim();
    const valid = secretsEqual(presented, adminToken) || (opts.otherAdminTokens !== undefined && (await opts.otherAdminTokens(presented)));
    if (!valid) throw unauthorized('auth_invalid', 'invalid admin token');
    attempt.succeeded();
    return { signedIn: true, expiresAt: setSession(request, reply, sessions) };
  });

  app.delete('/dashboard/session', {
    schema: { tags, summary: 'Sign out: end this browser\'s dashboard session', security: [], response: { 204: { type: 'null', description: 'signed out' }, 403: errorResponse, ...commonErrors } },
  }, async (request, reply) => {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (id !== undefined) {
      checkSameOrigin(request);
      sessions.closeSession(id);
    }
    void reply.header('set-cookie', sessionCookie(SESSION_COOKIE, '', { maxAgeS: 0, secure: request.protocol === 'https' }));
    return reply.status(204).send();
  });
}

/** GET /login?code=: spends a login code, sets the session cookie and sends the browser on to `/` (429 `rate_limited` after too many failures). */
export async function loginRoute(app: FastifyInstance, opts: { sessions: DashboardSessions; throttle: SignInThrottle }): Promise<void> {
  app.get<{ Querystring: { code?: string } }>('/login', {
    // The URL holds the code: keep the per-request info log line (which prints the URL) out of the logs.
    logLevel: 'warn',
    schema: {
      hide: true,
      querystring: { type: 'object', properties: { code: { type: 'string', maxLength: 256 } } },
    },
  }, async (request, reply) => {
    void reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
    const attempt = opts.throttle.attempt(request.ip);
    const code = request.query.code;
    if (!code || !opts.sessions.redeemCode(code)) {
      // Expired, spent or made up: the page says so and offers the token form.
      return reply.redirect('/?login=failed', 303);
    }
    attempt.succeeded();
    setSession(request, reply, opts.sessions);
    // A redirect, so the code leaves the address bar and the history.
    return reply.redirect('/', 303);
  });
}
