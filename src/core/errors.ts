/**
 * Typed errors. Every failure a caller can cause carries a stable `code` that
 * names the problem and the HTTP status it maps to; the HTTP layer maps them
 * in one place (http/errors.ts) and never invents its own.
 */
export class MosaicError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'MosaicError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const invalid = (code: string, message: string, details?: Record<string, unknown>): MosaicError =>
  new MosaicError(400, code, message, details);
export const unauthorized = (code: string, message: string): MosaicError => new MosaicError(401, code, message);
export const forbidden = (code: string, message: string, details?: Record<string, unknown>): MosaicError =>
  new MosaicError(403, code, message, details);
export const notFound = (code: string, message: string): MosaicError => new MosaicError(404, code, message);
export const conflict = (code: string, message: string, details?: Record<string, unknown>): MosaicError =>
  new MosaicError(409, code, message, details);
export const tooMany = (code: string, message: string, details?: Record<string, unknown>): MosaicError =>
  new MosaicError(429, code, message, details);
export const unavailable = (code: string, message: string): MosaicError => new MosaicError(503, code, message);

export function isMosaicError(err: unknown): err is MosaicError {
  return err instanceof MosaicError;
}

/** A short, safe message for any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const STORAGE_FULL_TEXT = /No space left on device|Disk quota exceeded|database or disk is full/i;

/**
 * A failure because the disk (or quota) is full, whichever layer hit it:
 * fs (`ENOSPC`, `EDQUOT`), SQLite (`SQLITE_FULL`) or git (its stderr).
 * It is not a fault of Mosaic and maps to 507 `insufficient_storage`.
 */
export function isStorageFull(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message, stderr } = err as { code?: unknown; message?: unknown; stderr?: unknown };
  if (typeof code === 'string' && STORAGE_FULL_CODES.has(code)) return true;
  return [message, stderr].some((text) => typeof text === 'string' && STORAGE_FULL_TEXT.test(text));
}

const STORE_LOST_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  // PostgreSQL: connection exceptions (08…) and the server shutting down or starting (57P01–57P03).
  '08000', '08001', '08003', '08004', '08006', '57P01', '57P02', '57P03',
]);
const STORE_LOST_TEXT = /Connection terminated|timeout exceeded when trying to connect|not queryable|the database system is (starting up|shutting down)/i;

/**
 * A failure because the database server cannot be reached (down, restarting,
 * the network): not a fault of the request, it maps to 503
 * `store_unavailable` and the request may be retried once the server is back.
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if (isMosaicError(err)) return err.code === 'store_unavailable';
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && STORE_LOST_CODES.has(code)) return true;
  return typeof message === 'string' && STORE_LOST_TEXT.test(message);
}
