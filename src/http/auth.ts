import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { unauthorized } from '../core/errors.js';

/** Constant-time comparison of two secrets of any length (hashing equalizes lengths). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** A preHandler that requires `Authorization: Bearer <admin token>`. */
export function requireAdmin(token: string) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (!header) throw unauthorized('auth_required', 'missing Authorization: Bearer <admin token>');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !secretsEqual(match[1]!, token)) throw unauthorized('auth_invalid', 'invalid admin token');
  };
}
