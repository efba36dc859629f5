import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { tooMany } from '../../core/errors.js';
import { kindFromPath, MAX_BODY_BYTES, ProtocolError, SIGNATURE_HEADER } from '../protocol/index.js';
import { envelopeSchema, errorResponse, instanceSchema } from '../http/schemas.js';
import type { InstanceDoc } from '../outbound/index.js';
import type { InboundProcessor } from './processor.js';

export interface PublicRoutesOptions {
  processor: InboundProcessor;
  instanceDoc: () => InstanceDoc;
  /** Requests per source address per minute, counted before anything is parsed. */
  ratePerIp: number;
}

/** A refusal: a signed RESPONSE envelope with `body.ok: false`, or `{error}` when the request did not parse as an envelope. */
const refusal = {
  type: 'object',
  additionalProperties: true,
  description: 'a signed RESPONSE envelope `{..., body: {ok: false, error: {code, message}}}`, or `{error: {code, message}}` when the body is not an envelope',
} as const;

/**
 * The public federation endpoints: `GET /federation/instance` and
 * `POST /federation/incoming/:kind`. Incoming bodies are taken as raw bytes
 * (the signature covers the exact bytes) and refused above MAX_BODY_BYTES
 * before they are read; the per-address limit runs on the request line,
 * before the body, any parsing or any crypto.
 */
export async function publicFederationRoutes(app: FastifyInstance, opts: PublicRoutesOptions): Promise<void> {
  await app.register(rateLimit, {
    max: opts.ratePerIp,
    timeWindow: 60_000,
    hook: 'onRequest',
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) => tooMany('rate_limited', `too many requests from this address; retry in ${context.after}`),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => done(null, body));

  app.get('/federation/instance', {
    schema: {
      tags: ['federation'],
      summary: "This instance's public identity (no authentication)",
      security: [],
      response: { 200: instanceSchema },
    },
  }, async () => opts.instanceDoc());

  app.post<{ Params: { kind: string }; Body: Buffer }>('/federation/incoming/:kind', {
    bodyLimit: MAX_BODY_BYTES,
    // The body is raw bytes checked by the federation pipeline itself; the schema below documents it.
    validatorCompiler: () => () => true,
    schema: {
      tags: ['federation'],
      summary: 'Signed peer traffic: one envelope per request (no admin token; the Ed25519 signature authenticates)',
      description: 'Header `Mosaic-Signature: ed25519=<base64url signature of the exact body bytes>`. ' +
        'The answer is a signed RESPONSE envelope (also for refusals once the envelope parses) with the same header. ' +
        `Bodies over ${MAX_BODY_BYTES} bytes are refused with 413; too many requests with 429 \`rate_limited\`.`,
      security: [],
      params: { type: 'object', required: ['kind'], properties: { kind: { type: 'string', enum: ['connect', 'disconnect', 'query', 'command', 'event'] } } },
      headers: { type: 'object', properties: { [SIGNATURE_HEADER]: { type: 'string' } } },
      body: envelopeSchema,
      response: { 200: envelopeSchema, 400: refusal, 401: refusal, 403: refusal, 404: refusal, 409: refusal, 413: errorResponse, 429: refusal },
    },
  }, async (request, reply) => {
    const kind = kindFromPath(request.params.kind);
    if (!kind) throw new ProtocolError(404, 'unknown_kind', `no incoming endpoint '${request.params.kind}'`);
    const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = request.headers[SIGNATURE_HEADER];
    const answer = await opts.processor.process(kind, bytes, typeof header === 'string' ? header : undefined, request.ip);
    return reply.status(answer.status).header(SIGNATURE_HEADER, answer.signature).type('application/json').send(answer.bytes);
  });
}
