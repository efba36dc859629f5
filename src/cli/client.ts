/**
 * A small typed client for the instance's HTTP API (DESIGN §5). The CLI holds
 * no business logic: every verb is one or a few calls through this client.
 */

/** Process exit codes of the CLI: 1 for failures (API, network, checks), 2 for bad usage. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the CLI reports as `mosaic: <code>: <message>` and exits non-zero on. */
export class CliError extends Error {
  readonly code: string;
  /** The HTTP status when the error came from the API. */
  readonly status: number | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly exitCode: number;

  constructor(code: string, message: string, opts: { status?: number; details?: Record<string, unknown>; exitCode?: number } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.status = opts.status;
    this.details = opts.details;
    this.exitCode = opts.exitCode ?? EXIT_FAILURE;
  }

  toJSON(): { code: string; message: string; status?: number; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export const usageError = (message: string): CliError => new CliError('usage', message, { exitCode: EXIT_USAGE });

export interface ClientOptions {
  /** Base URL of the instance, e.g. http://127.0.0.1:7420 */
  url: string;
  /** Admin token; without it only public endpoints answer. */
  token: string | undefined;
  /** Where the token was looked for, to explain a 401. */
  tokenPath?: string;
  /** Per-request timeout for non-streaming calls. */
  timeoutMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

/** `GET /api/v1/health`. */
export interface Health {
  status: string;
  version: string;
  instanceId: string;
  uptimeS: number;
  /** Runtimes paused by (or close to) their rate limit. */
  limits?: Array<{ runtime: string; state: 'paused' | 'warning'; resetsAt: number }>;
}

/** `GET /api/v1/status`. */
export interface InstanceStatus {
  store: { backend: 'sqlite' | 'postgres'; description: string };
}

/** One server-sent event. `event` defaults to `message` as in the EventSource spec. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class ApiClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly tokenPath: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.tokenPath = opts.tokenPath;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.request<T>('GET', path, { query })).body;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.request<T>('POST', path, { body })).body;
  }

  async delete(path: string, query?: Query): Promise<void> {
    await this.request('DELETE', path, { query });
  }

  /** A JSON (or, for text/plain answers, string) request; non-2xx answers throw CliError. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const signal = opts.signal ?? AbortSignal.timeout(this.timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9', ...this.authHeader() };
    const init: RequestInit = { method, headers, signal };
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    const res = await this.fetch(this.address(path, opts.query), init);
    const text = await res.text();
    if (!res.ok) throw this.apiError(res.status, text);
    const type = res.headers.get('content-type') ?? '';
    if (text === '' || !type.includes('json')) return { status: res.status, body: text as T };
    try {
      return { status: res.status, body: JSON.parse(text) as T };
    } catch {
      throw new CliError('bad_response', `the server at ${this.url} sent invalid JSON (HTTP ${res.status})`, { status: res.status });
    }
  }

  /**
   * Opens a text/event-stream and yields its events until the server ends the
   * stream or `signal` aborts (which ends the iteration quietly).
   */
  async *stream(path: string, opts: { query?: Query; lastEventId?: string; signal?: AbortSignal } = {}): AsyncGenerator<SseEvent> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.authHeader() };
    if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
    const init: RequestInit = { method: 'GET', headers };
    if (opts.signal) init.signal = opts.signal;
    let res: Response;
    try {
      res = await this.fetch(this.address(path, opts.query), init);
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw err;
    }
    if (!res.ok) throw this.apiError(res.status, await res.text());
    if (!res.body) return;
    try {
      yield* parseSse(res.body);
    } catch (err) {
      if (opts.signal?.aborted) return;
      throw new CliError('stream_failed', `the event stream from ${this.url} broke: ${messageOf(err)}`);
    }
  }

  private authHeader(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private address(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) params.set(key, String(value));
    }
    const qs = params.toString();
    return `${this.url}/api/v1${path}${qs ? `?${qs}` : ''}`;
  }

  private async fetch(address: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(address, init);
    } catch (err) {
      if (isAbort(err)) {
        if (init.signal?.reason instanceof DOMException && init.signal.reason.name === 'TimeoutError') {
          throw new CliError('timeout', `no answer from ${this.url} within ${Math.round(this.timeoutMs / 1000)}s`);
        }
        throw err;
      }
      throw new CliError('not_running', `no Mosaic instance at ${this.url} — start one with \`mosaic up\` (${causeOf(err)})`);
    }
  }

  private apiError(status: number, text: string): CliError {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    const code = typeof error?.code === 'string' ? error.code : `http_${status}`;
    let message = typeof error?.message === 'string' ? error.message : text.trim().slice(0, 500) || `HTTP ${status}`;
    if (status === 401) {
      message += this.token
        ? ` — the token in ${this.tokenPath ?? 'admin-token'} is not this instance's (is MOSAIC_HOME the instance's home?)`
        : ` — no admin token found${this.tokenPath ? ` at ${this.tokenPath}` : ''}; run \`mosaic init\` or set MOSAIC_HOME`;
    }
    const details = error?.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : undefined;
    return new CliError(code, message, { status, ...(details ? { details } : {}) });
  }
}

/** Parses a text/event-stream body into events (fields `id`, `event`, `data`; `:` lines are comments). */
export async function* parseSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  let seen = false;

  function* take(line: string): Generator<SseEvent> {
    if (line === '') {
      if (seen) yield { id, event: event || 'message', data: data.join('\n') };
      event = '';
      data = [];
      seen = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else return;
    seen = true;
  }

  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
      // A CR at the end of a chunk may be the first half of a CRLF: wait for the next chunk.
      if (buffer[newline] === '\r' && newline === buffer.length - 1) break;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      yield* take(line);
    }
  }
  buffer += decoder.decode();
  // A final frame without its blank line is incomplete and dropped, as EventSource does.
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? messageOf(err);
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
