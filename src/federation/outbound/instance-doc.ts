import { MosaicError } from '../../core/errors.js';
import { fingerprint } from '../identity/index.js';
import { BodyTooLarge, decodePublicKey, INSTANCE_ID_RE, isPlainObject, peerOrigin, PROTOCOL_VERSION, readCapped } from '../protocol/index.js';

/** What `GET /api/v1/federation/instance` answers (DESIGN §4 "Identity"). */
export interface InstanceDoc {
  instanceId: string;
  name: string;
  url: string;
  publicKey: string;
  protocolVersion: string;
  capabilities: string[];
}

export const MAX_DOC_BYTES = 64 * 1024;

const bad = (url: string, why: string): MosaicError =>
  new MosaicError(502, 'invalid_peer_instance', `${url} does not describe a Mosaic instance: ${why}`, { url });

/**
 * Reads a peer's public identity before the first signed message. The id
 * must be the fingerprint of the key: the document cannot name one
 * instance and hand over another's key.
 */
export async function fetchInstanceDoc(baseUrl: string, timeoutMs: number, fetchImpl: typeof fetch = fetch): Promise<InstanceDoc> {
  const origin = peerOrigin(baseUrl);
  if (origin === undefined) throw new MosaicError(400, 'invalid_url', 'url must be an http(s) URL without credentials', { field: 'url' });
  const url = `${origin}/api/v1/federation/instance`;
  let text: string;
  try {
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw bad(baseUrl, `it answered ${res.status}`);
    }
    // Streamed and cut off at the limit: a huge document costs no more memory than the limit.
    text = (await readCapped(res, MAX_DOC_BYTES)).toString('utf8');
  } catch (err) {
    if (err instanceof MosaicError) throw err;
    if (err instanceof BodyTooLarge) throw bad(baseUrl, 'the answer is too large');
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    const timedOut = (err as Error).name === 'TimeoutError';
    throw new MosaicError(timedOut ? 504 : 502, timedOut ? 'peer_timeout' : 'peer_unreachable',
      `cannot reach ${baseUrl}: ${typeof cause === 'string' ? cause : (err as Error).message}`, { url: baseUrl });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad(baseUrl, 'the answer is not JSON');
  }
  if (!isPlainObject(doc)) throw bad(baseUrl, 'the answer is not an object');
  const { instanceId, name, publicKey, protocolVersion, capabilities } = doc;
  if (typeof instanceId !== 'string' || !INSTANCE_ID_RE.test(instanceId)) throw bad(baseUrl, 'instanceId is missing or malformed');
  const raw = decodePublicKey(publicKey);
  if (!raw) throw bad(baseUrl, 'publicKey is missing or malformed');
  if (fingerprint(raw) !== instanceId) throw new MosaicError(502, 'fingerprint_mismatch', `${baseUrl} names instance ${instanceId} but its key is another instance's`);
  if (protocolVersion !== PROTOCOL_VERSION) {
    throw new MosaicError(502, 'unsupported_protocol_version', `${baseUrl} speaks protocol ${String(protocolVersion)}; this instance speaks ${PROTOCOL_VERSION}`);
  }
  return {
    instanceId,
    name: typeof name === 'string' && name.length > 0 ? name.slice(0, 100) : 'peer',
    url: peerOrigin(doc.url) ?? origin,
    publicKey: publicKey as string,
    protocolVersion,
    capabilities: Array.isArray(capabilities) ? capabilities.filter((c): c is string => typeof c === 'string') : [],
  };
}
