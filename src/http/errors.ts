import type { FastifyError, FastifyInstance } from 'fastify';
import { isMosaicError } from '../core/errors.js';

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

/** The field a JSON-schema validation error is about, e.g. `body.taskId` → `taskId`. */
function fieldOf(err: FastifyError): string | undefined {
  const first = err.validation?.[0];
  if (!first) return undefined;
  const params = first.params as Record<string, unknown> | undefined;
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = typeof params?.missingProperty === 'string' ? params.missingProperty : undefined;
  const extra = typeof params?.additionalProperty === 'string' ? params.additionalProperty : undefined;
  const leaf = missing ?? extra;
  if (leaf) return path ? `${path}.${leaf}` : leaf;
  return path || undefined;
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
      const field = fieldOf(err);
      status = 400;
      body = {
        error: {
          code: 'invalid_request',
          message: `${err.validationContext ?? 'request'}${field ? `.${field}` : ''} ${err.validation[0]?.message ?? 'is invalid'}`,
          details: field ? { field } : {},
        },
      };
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
