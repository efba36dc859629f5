/**
 * The dashboard's only way to the instance: the public HTTP API under /api/v1.
 * The session cookie goes along by itself (same origin); mutating requests add
 * the header the server's cross-site defence asks for.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The request field the error is about (schema validation errors name it). */
  get field(): string | undefined {
    return typeof this.details.field === 'string' ? this.details.field : undefined;
  }
}

type SignedOutListener = () => void;
const signedOutListeners = new Set<SignedOutListener>();

/** Called when the server says the session is gone (401), wherever that happens. */
export function onSignedOut(listener: SignedOutListener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/** Tells every listener that the session is gone (an event stream refused, a 401). */
export function signalSignedOut(): void {
  signedOutListeners.forEach((listener) => listener());
}

export async function request<T>(method: string, path: string, body?: unknown, accept = 'application/json'): Promise<T> {
  const headers: Record<string, string> = { accept };
  if (method !== 'GET' && method !== 'HEAD') headers['x-mosaic-request'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, init);
  } catch (err) {
    throw new ApiError(0, 'network_error', `the instance did not answer (${err instanceof Error ? err.message : String(err)})`);
  }
  const text = await res.text();
  if (!res.ok) {
    let error: { code?: string; message?: string; details?: Record<string, unknown> } = {};
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
    } catch {
      // not JSON: the status says enough
    }
    const failure = new ApiError(res.status, error.code ?? `http_${res.status}`, error.message ?? res.statusText, error.details ?? {});
    if (res.status === 401 && !path.startsWith('/dashboard/')) signalSignedOut();
    throw failure;
  }
  if (accept !== 'application/json') return text as T;
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  text: (path: string) => request<string>('GET', path, undefined, 'text/plain'),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: (path: string) => request<void>('DELETE', path),
};

/** `true` when the instance answers `route_not_found`: a feature this instance does not have (yet). */
export const isMissingRoute = (err: unknown): boolean => err instanceof ApiError && err.status === 404 && err.code === 'route_not_found';

export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
