/** The few cookie helpers the dashboard session needs (one cookie, set and read by the server). */

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. */
  maxAgeS: number;
  secure: boolean;
}

/** A Set-Cookie value that scripts cannot read and other sites cannot make the browser send. */
export function sessionCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.max(0, Math.floor(opts.maxAgeS))}`];
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}
