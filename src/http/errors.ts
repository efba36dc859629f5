import type { FastifyError, FastifyInstance } from 'fastify';
import { isMosaicError, isStorageFull, isStoreUnavailable } from '../core/errors.js';
import { isLockError } from '../git/index.js';
import { NAME_PATTERN, NAME_RULE } from '../core/ids.js';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Fastify's own error codes, mapped to Mosaic codes that name the problem. */
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'empty_body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
};

const snake = (text: string): string => text.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/[^a-z0-9_]/g, '_');

/**
 * A code and field for a JSON-schema validation error that name the problem:
 * `missing_task_id`, `invalid_task_id`, `invalid_runtime`, `unknown_field`.
 */
export function describeValidation(err: FastifyError): { code: string; field: string | undefined } {
  const first = err.validation?.[0];
  if (!first) return { code: 'invalid_request', field: undefined };
  const params = first.params as Record<string, unknown> | undefined;
  const segments = first.instancePath.split('/').filter(Boolean);
  const missing = typeof params?.missingProperty === 'string' ? params.missingProperty : undefined;
  const extra = typeof params?.additionalProperty === 'string' ? params.additionalProperty : undefined;
  const tag = typeof params?.tagName === 'string' ? params.tagName : undefined;
  const leaf = missing ?? extra ?? tag;
  const fieldSegments = leaf ? [...segments, leaf] : segments;
  const field = fieldSegments.length > 0 ? fieldSegments.join('.') : undefined;
  if (extra) return { code: 'unknown_field', field };
  const top = fieldSegments[0];
  if (!top) return { code: 'invalid_request', field };
  if (missing && segments.length === 0) return { code: `missing_${snake(top)}`, field };
  return { code: `invalid_${snake(top)}`, field };
}

/**
 * A sentence for a validation error: `taskId must be 1-64 letters, ...` for a
 * bad name instead of the regular expression, `body has an unknown field
 * 'shell'`, otherwise Ajv's own wording prefixed with where it was found.
 */
function validationMessage(err: FastifyError, field: string | undefined): string {
  const first = err.validation?.[0];
  const params = (first?.params ?? {}) as Record<string, unknown>;
  const where = err.validationContext ?? 'request';
  const label = field ?? where;
  if (first?.keyword === 'pattern' && params.pattern === NAME_PATTERN) return `${label} must be ${NAME_RULE}`;
  if (first?.keyword === 'additionalProperties') return `${where} has an unknown field '${field ?? '?'}'`;
  if (first?.keyword === 'required') return `${where} is missing the required field '${field ?? '?'}'`;
  return `${where}${field ? `.${field}` : ''} ${first?.message ?? 'is invalid'}`;
}

/**
 * The status and body any thrown error maps to: the one place where errors
 * become answers (HTTP here; MCP tool errors and A2A JSON-RPC errors carry the
 * same code and message). `fault` is true for a real fault (500): the caller logs it.
 */
export function errorAnswerOf(err: unknown): { status: number; body: ErrorBody; fault: boolean; retryAfterS?: number } {
  const e = err as FastifyError;
  if (isMosaicError(err)) {
    // A 429 that knows when to come back says so in Retry-After too.
    const retryAfterS = err.status === 429 ? err.details?.retryAfterS : undefined;
    return { status: err.status, body: { error: err.toJSON() }, fault: false, ...(typeof retryAfterS === 'number' ? { retryAfterS } : {}) };
  }
  if (e?.validation) {
    const { code, field } = describeValidation(e);
    return { status: 400, body: { error: { code, message: validationMessage(e, field), details: field ? { field } : {} } }, fault: false };
  }
  if (isLockError(err)) {
    // Another git process (the user's, an IDE's) holds a lock in the repository: nothing is wrong, try again.
    return {
      status: 409, fault: false, retryAfterS: 2,
      body: { error: { code: 'git_busy', message: 'another git process holds a lock in this repository; retry shortly', details: { retryable: true } } },
    };
  }
  if (isStoreUnavailable(err)) {
    // The database server is down or restarting: nothing was written (each store write is one transaction).
    return {
      status: 503, fault: false, retryAfterS: 2,
      body: { error: { code: 'store_unavailable', message: 'the database cannot be reached; retry shortly', details: { retryable: true } } },
    };
  }
  if (isStorageFull(err)) {
    return { status: 507, fault: false, body: { error: { code: 'insufficient_storage', message: 'the disk is full: nothing was changed; free space and retry' } } };
  }
  if (e?.code && FASTIFY_CODES[e.code]) {
    const mapped = FASTIFY_CODES[e.code]!;
    return { status: mapped.status, fault: false, body: { error: { code: mapped.code, message: e.message } } };
  }
  if (e?.statusCode === 429) return { status: 429, fault: false, body: { error: { code: 'rate_limited', message: e.message } } };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, fault: false, body: { error: { code: 'bad_request', message: e.message } } };
  }
  return { status: 500, fault: true, body: { error: { code: 'internal', message: 'internal error' } } };
}

/** The one place where errors become HTTP responses. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = errorAnswerOf(err);
    if (answer.fault) request.log.error({ err }, 'unhandled error');
    else if (answer.body.error.code === 'insufficient_storage') request.log.warn({ err }, 'storage full');
    if (answer.retryAfterS !== undefined) void reply.header('retry-after', String(answer.retryAfterS));
    void reply.status(answer.status).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'route_not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}
