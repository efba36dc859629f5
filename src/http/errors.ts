import type { FastifyError, FastifyInstance } from 'fastify';
import { isMosaicError, isStorageFull } from '../core/errors.js';
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

/** The one place where errors become HTTP responses. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let status: number;
    let body: ErrorBody;
    if (isMosaicError(err)) {
      status = err.status;
      body = { error: err.toJSON() };
    } else if (err.validation) {
      const { code, field } = describeValidation(err);
      status = 400;
      body = { error: { code, message: validationMessage(err, field), details: field ? { field } : {} } };
    } else if (isLockError(err)) {
      // Another git process (the user's, an IDE's) holds a lock in the repository: nothing is wrong, try again.
      status = 409;
      body = { error: { code: 'git_busy', message: 'another git process holds a lock in this repository; retry shortly', details: { retryable: true } } };
      void reply.header('retry-after', '2');
    } else if (isStorageFull(err)) {
      request.log.warn({ err }, 'storage full');
      status = 507;
      body = { error: { code: 'insufficient_storage', message: 'the disk is full: nothing was changed; free space and retry' } };
    } else if (err.code && FASTIFY_CODES[err.code]) {
      const mapped = FASTIFY_CODES[err.code]!;
      status = mapped.status;
      body = { error: { code: mapped.code, message: err.message } };
    } else if (err.statusCode === 429) {
      status = 429;
      body = { error: { code: 'rate_limited', message: err.message } };
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      body = { error: { code: 'bad_request', message: err.message } };
    } else {
      request.log.error({ err }, 'unhandled error');
      status = 500;
      body = { error: { code: 'internal', message: 'internal error' } };
    }
    void reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'route_not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
}
