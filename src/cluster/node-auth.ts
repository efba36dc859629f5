import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler, preParsingAsyncHookHandler } from 'fastify';
import { Readable } from 'node:stream';
import { MosaicError, unauthorized } from '../core/errors.js';
import { deriveKey } from './secret.js';

export const NODE_HEADER = 'x-mosaic-node';
export const TIME_HEADER = 'x-mosaic-node-time';
export const NONCE_HEADER = 'x-mosaic-node-nonce';
export const SIGNATURE_HEADER = 'x-mosaic-node-signature';

/** How far a request's time may be from the receiver's clock. */
export const MAX_SKEW_MS = 60_000;
/** Nonces remembered at once (a replay inside the window is refused); past this the oldest go. */
const MAX_NONCES = 100_000;
/** Largest body a node request may carry (what is signed is hashed whole before parsing). */
const MAX_BODY_BYTES = 1024 * 1024;

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

function canonical(parts: { method: string; url: string; node: string; time: string; nonce: string; bodySha256: string }): string {
  return [parts.method.toUpperCase(), parts.url, parts.node, parts.time, parts.nonce, parts.bodySha256].join('\n');
}

/**
 * Node-to-node authentication: an HMAC-SHA256 over the request (method, path
 * with query, sending node, time, a nonce, the body's hash) with a key
 * derived from the cluster secret. The secret never travels; a captured
 * request cannot be replayed (nonce) nor replayed late (time), nor changed
 * (everything that matters is signed). Only nodes knowing the secret pass.
 */
export class NodeAuth {
  private readonly key: Buffer;
  private readonly nonces = new Map<string, number>();

  constructor(secret: string, readonly node: string, private readonly now: () => number = Date.now) {
    this.key = deriveKey(secret, 'node-auth');
  }

  /** Headers to add to a request from this node (`url` is the path with its query, e.g. `/internal/agents/x/logs?after=3`). */
  sign(method: string, url: string, body: Buffer | string = ''): Record<string, string> {
    const time = String(this.now());
    const nonce = randomBytes(16).toString('base64url');
    const signature = createHmac('sha256', this.key)
      .update(canonical({ method, url, node: this.node, time, nonce, bodySha256: sha256(body) })).digest('hex');
    return { [NODE_HEADER]: this.node, [TIME_HEADER]: time, [NONCE_HEADER]: nonce, [SIGNATURE_HEADER]: signature };
  }

  /**
   * The sending node's name when the request is signed by a node of this
   * cluster; throws 401 `node_auth_invalid` otherwise. `bodySha256` is the
   * hex SHA-256 of the raw body as received (empty body when none).
   */
  verify(req: { method: string; url: string; headers: Record<string, string | string[] | undefined>; bodySha256?: string }): string {
    const header = (name: string): string => {
      const value = req.headers[name];
      if (typeof value !== 'string' || value === '' || value.length > 256) throw unauthorized('node_auth_required', `missing ${name}`);
      return value;
    };
    const node = header(NODE_HEADER);
    const time = header(TIME_HEADER);
    const nonce = header(NONCE_HEADER);
    const signature = header(SIGNATURE_HEADER);
    const at = Number(time);
    if (!Number.isSafeInteger(at) || Math.abs(this.now() - at) > MAX_SKEW_MS) throw unauthorized('node_auth_invalid', 'node request time is outside the allowed window');
    const expected = createHmac('sha256', this.key)
      .update(canonical({ method: req.method, url: req.url, node, time, nonce, bodySha256: req.bodySha256 ?? sha256('') })).digest();
    const given = Buffer.from(signature, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthorized('node_auth_invalid', 'invalid node signature');
    this.rememberNonce(nonce, at);
    return node;
  }

  private rememberNonce(nonce: string, at: number): void {
    const now = this.now();
    if (this.nonces.has(nonce)) throw unauthorized('node_auth_invalid', 'node request replayed');
    for (const [old, seen] of this.nonces) {
      if (this.nonces.size < MAX_NONCES && now - seen <= 2 * MAX_SKEW_MS) break;
      this.nonces.delete(old);
    }
    this.nonces.set(nonce, Math.max(at, now));
  }

  /**
   * Fastify hooks for an internal route: the body is hashed as it arrives
   * (preParsing) and the signature checked before the handler (preHandler).
   * The sending node's name is then `nodeOf(request)`.
   */
  hooks(): { preParsing: preParsingAsyncHookHandler; preHandler: preHandlerAsyncHookHandler } {
    const hashes = new WeakMap<FastifyRequest, string>();
    const senders = this.senders;
    return {
      preParsing: async (request, _reply, payload) => {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of payload) {
          const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
          size += bytes.length;
          if (size > MAX_BODY_BYTES) throw new MosaicError(413, 'body_too_large', `a node request body is at most ${MAX_BODY_BYTES} bytes`);
          chunks.push(bytes);
        }
        const body = Buffer.concat(chunks);
        hashes.set(request, sha256(body));
        return Readable.from([body]);
      },
      preHandler: async (request: FastifyRequest, _reply: FastifyReply) => {
        const node = this.verify({ method: request.method, url: request.url, headers: request.headers, bodySha256: hashes.get(request) ?? sha256('') });
        senders.set(request, node);
      },
    };
  }

  private readonly senders = new WeakMap<FastifyRequest, string>();

  /** The node that signed a request the hooks let through. */
  nodeOf(request: FastifyRequest): string | undefined {
    return this.senders.get(request);
  }
}
